"""The real-cluster backend: the official Kubernetes client, confined to this package.

``backend`` (apply, read, delete, the request budget), ``discovery`` (kinds to resources),
``watch`` (readiness waits with re-list on 410), ``errors`` (API errors to pyvela's tree),
``helm``/``helm_store``/``release`` (HelmRelease objects through the helm CLI) and the
state it reads from helm's own storage. Importing this package does not import
``kubernetes``; creating a backend does.
"""
