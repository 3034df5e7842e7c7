"""Controller mode: ``applications.pyvela.dev`` resources reconciled continuously in the
cluster by the same deploy as the CLI (``crd``, ``manifests``, ``source``, ``status``,
``drift``, ``reconciler``, ``operator``, ``metrics``).

A layer above ``pyvela._workflow`` and below ``pyvela._cli``: it may import the workflow,
app, backends and core layers. kopf (its watch/queue/finalizer machinery, with its own
aiohttp client) and prometheus_client are imported only by ``operator`` and ``metrics``,
never by ``python -m pyvela --help``.
"""
