"""The pod's service account (``--in-cluster``): the API server from
``KUBERNETES_SERVICE_HOST``/``KUBERNETES_SERVICE_PORT`` (as client-go finds it, never the
``kubernetes.default.svc`` DNS name), the token, CA and namespace files from the
service-account directory (``$PYVELA_SERVICE_ACCOUNT_DIR``, default the kubelet's mount).

Read by both clients: the official one (pyvela's own requests, ``transport``) and kopf's
(the controller's watches, ``pyvela._controller.login``). The token is re-read at every
login: a projected token is rotated by the kubelet.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from pyvela.errors import ClusterError

#: Where the kubelet mounts a pod's service-account token, CA and namespace.
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
#: Overrides ``SERVICE_ACCOUNT_DIR`` (a non-standard mount; the e2e tests' own token).
DIR_ENV = "PYVELA_SERVICE_ACCOUNT_DIR"


@attrs.frozen
class ServiceAccount:
    server: str
    token_file: Path
    ca_file: Path
    namespace: str | None

    def token(self) -> str:
        """The token as the file holds it now (never logged, never in a message)."""
        try:
            text = self.token_file.read_text().strip()
        except OSError as exc:
            raise _error(f"cannot read the service-account token {self.token_file}: {exc.strerror}") from None
        if not text:
            raise _error(f"the service-account token {self.token_file} is empty")
        return text


def _error(message: str) -> ClusterError:
    return ClusterError(
        message,
        expected="a pod's service account (token, ca.crt, namespace) and KUBERNETES_SERVICE_HOST/PORT",
        fix=f"run in a pod, or set KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT and {DIR_ENV}; "
        "outside a pod use --kubeconfig",
    )


def service_account(environ: Mapping[str, str] | None = None) -> ServiceAccount:
    """The service account this process runs as; ClusterError naming what is missing."""
    env = os.environ if environ is None else environ
    host, port = env.get("KUBERNETES_SERVICE_HOST", ""), env.get("KUBERNETES_SERVICE_PORT", "")
    if not host or not port:
        raise _error("not in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
    folder = Path(env.get(DIR_ENV) or SERVICE_ACCOUNT_DIR)
    token, ca, ns = folder / "token", folder / "ca.crt", folder / "namespace"
    for file in (token, ca):
        if not file.is_file():
            # Said without "token:" (the errors' redaction would hide the path as a credential).
            raise _error(f"the service account's {file.name} file does not exist ({file})")
    namespace = ns.read_text().strip() if ns.is_file() else None
    # IPv6 addresses are bracketed in a URL (as Go's net.JoinHostPort).
    netloc = f"[{host}]:{port}" if ":" in host or "%" in host else f"{host}:{port}"
    return ServiceAccount(
        server=f"https://{netloc}", token_file=token, ca_file=ca, namespace=namespace or None
    )
