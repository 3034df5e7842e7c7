"""kopf's credentials from a kubeconfig file and context (kopf's own helper reads only
``$KUBECONFIG``'s current context), or from the pod's service account (``incluster``: the
same files and server as pyvela's own client)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pyvela._backends.kube.incluster import service_account
from pyvela.errors import ClusterError


def kubeconfig_credentials(path: str, context: str | None = None) -> dict[str, Any]:
    """The server, CA and client credentials of ``context`` (default: the current one), as
    ``kopf.ConnectionInfo``'s keyword arguments. Never logged: they hold secrets."""
    try:
        config = yaml.safe_load(Path(path).expanduser().read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ClusterError(f"cannot read the kubeconfig {path}: {type(exc).__name__}") from None

    def named(section: str, name: Any) -> dict[str, Any]:
        for item in config.get(section) or []:
            if item.get("name") == name:
                return dict(item.get(section.rstrip("s")) or {})
        raise ClusterError(
            f"the kubeconfig {path} has no {section.rstrip('s')} {name!r}",
            fix="check --context and the kubeconfig's contexts",
        )

    ctx = named("contexts", context or config.get("current-context"))
    cluster, user = named("clusters", ctx.get("cluster")), named("users", ctx.get("user"))
    base = Path(path).expanduser().resolve().parent

    def file(value: Any) -> str | None:  # relative paths are relative to the kubeconfig
        return None if not value else str(base / str(value))

    return {
        "server": cluster.get("server"),
        "ca_path": file(cluster.get("certificate-authority")),
        "ca_data": cluster.get("certificate-authority-data"),
        "insecure": cluster.get("insecure-skip-tls-verify"),
        "certificate_path": file(user.get("client-certificate")),
        "certificate_data": user.get("client-certificate-data"),
        "private_key_path": file(user.get("client-key")),
        "private_key_data": user.get("client-key-data"),
        "username": user.get("username"),
        "password": user.get("password"),
        "token": user.get("token"),
        "default_namespace": ctx.get("namespace"),
    }


def service_account_credentials() -> dict[str, Any]:
    """The pod's service account as ``kopf.ConnectionInfo``'s keyword arguments: the server
    from KUBERNETES_SERVICE_HOST/PORT (kopf's own helper dials ``kubernetes.default.svc``),
    the token as its file holds it now (kopf logs in again on a 401: a rotated token is read)."""
    account = service_account()
    return {
        "server": account.server,
        "ca_path": str(account.ca_file),
        "token": account.token(),
        "default_namespace": account.namespace,
    }
