"""A chart repository that needs credentials: read from a Secret, given to helm unseen.

FluxCD's ``secretRef`` names a Secret with ``username`` and ``password``. pyvela reads it
through the API at apply time (never stored: not in the HelmRelease, the state record or a
message), adds the repository under a private alias in a throw-away helm repository
configuration with ``helm repo add --password-stdin`` (so the password is on no command
line another local user could read), and installs ``alias/chart`` from there. The password
is added to the redactor first: helm's own messages cannot show it.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pyvela._backends.helmvalues import repo_credentials as read_credentials
from pyvela._backends.kube.helm import HelmSpec, run_helm
from pyvela._core.objects import ObjectRef

ALIAS = "pyvela-auth"


def repo_credentials(get: Callable[[ObjectRef], Any], spec: HelmSpec, what: str) -> tuple[str, str]:
    """(username, password) from the Secret ``spec.secret_ref``; ClusterError naming what is missing."""
    assert spec.secret_ref is not None
    namespace, name = spec.secret_ref
    return read_credentials(get, namespace, name, what)


@contextlib.contextmanager
def authenticated_repo(
    helm: str,
    spec: HelmSpec,
    credentials: tuple[str, str],
    *,
    what: str,
    redact: Any,
    timeout: float = 600.0,
) -> Iterator[tuple[dict[str, str], list[str]]]:
    """(helm's environment, the chart arguments) for a repository added with ``credentials``
    (``timeout``: how long ``helm repo add`` may take to fetch the index)."""
    username, password = credentials
    redact.add(password)
    with tempfile.TemporaryDirectory(prefix="pyvela-helm-repo-") as tmp:
        env = {
            "HELM_REPOSITORY_CONFIG": str(Path(tmp) / "repositories.yaml"),
            "HELM_REPOSITORY_CACHE": str(Path(tmp) / "cache"),
        }
        run_helm(
            [helm, "repo", "add", ALIAS, str(spec.repo_url), "--username", username, "--password-stdin",
             "--force-update"],
            what=f"{what}: chart repository {spec.repo_url}",
            redact=redact,
            env=env,
            stdin=password,
            timeout=timeout,
        )  # fmt: skip
        yield env, spec.chart_args(ALIAS)
