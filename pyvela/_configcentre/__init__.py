"""Configuration centres: where steps register configuration.

``protocol`` is the ``ConfigCentre`` contract; ``apollo`` the Apollo implementation over its
Open API and config service (``client``, ``models``, ``errors``, ``settings``), all HTTP
through httpx.

May import: ``pyvela._core`` and ``pyvela.errors``.
"""
