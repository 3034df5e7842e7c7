"""Backends: the clusters an app is applied to.

``protocol`` is the ``Backend`` contract and ``readiness`` the per-kind health rules both
implementations share; ``sandbox`` is the embedded, persisted cluster (the default) and
``kube`` a real Kubernetes API server (the only package that imports ``kubernetes``, lazily).

May import: ``pyvela._configcentre`` (the sandbox hosts a config centre), ``pyvela._core``
and ``pyvela.errors``.
"""
