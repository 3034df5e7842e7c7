"""The helm CLI driver for ``pyvela.dev/v1alpha1 HelmRelease`` (no ``kubernetes`` import here).

Finds the helm binary (``$PYVELA_HELM``, else PATH), reads a HelmRelease's spec, builds
the ``helm upgrade --install`` / ``helm uninstall`` command lines (no ``--wait``: pyvela
watches readiness itself; values go in a private temporary file) and runs them, turning
helm's failures into pyvela errors with its stderr (credentials redacted).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from pyvela._core.objects import HELM_KIND
from pyvela.errors import ClusterError, TransientError

__all__ = [
    "ENV_HELM",
    "HelmSpec",
    "KubeTarget",
    "find_helm",
    "run_helm",
    "spec_hash",
    "uninstall_command",
    "upgrade_command",
]

ENV_HELM = "PYVELA_HELM"
_TRANSIENT_HINTS = (
    "connection refused",
    "connection reset",
    "i/o timeout",
    "tls handshake timeout",
    "eof",
    "the server is currently unable",
    "too many requests",
    "etcdserver: request timed out",
    "another operation (install/upgrade/rollback) is in progress",
    "http2: server sent goaway",
)
_FETCH_HINTS = (
    "failed to fetch",
    "not a valid chart repository",
    "cannot be reached",
    "no chart version found",
    "no chart name found",
    "chart not found",
    "failed to download",
    "path",
    "not found",
)


def find_helm(environ: Mapping[str, str] | None = None) -> str:
    """The helm binary: ``$PYVELA_HELM``, else ``helm`` on PATH."""
    env = os.environ if environ is None else environ
    configured = env.get(ENV_HELM, "").strip()
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise ClusterError(
                f"helm not found: {ENV_HELM}={configured!r} is not an executable",
                fix=f"point {ENV_HELM} at the helm binary, or unset it to use helm from PATH",
            )
        return found
    found = shutil.which("helm", path=env.get("PATH"))
    if found is None:
        raise ClusterError(
            "helm not found: install helm or set PYVELA_HELM",
            fix="install helm 3.13+ (https://helm.sh/docs/intro/install/) or set PYVELA_HELM",
        )
    return found


@attrs.frozen(kw_only=True)
class HelmSpec:
    """The spec of a HelmRelease object."""

    release: str
    chart: str
    version: str | None = None
    repo_url: str | None = None
    repo_type: str = "helm"
    values: Mapping[str, Any] = attrs.field(factory=dict)
    #: (namespace, name) of a Secret with the repository's ``username`` and ``password``.
    secret_ref: tuple[str, str] | None = None
    #: A failed install/upgrade is undone (``helm rollback``, or uninstall of a first install).
    atomic: bool = False

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> HelmSpec:
        meta, spec = obj.get("metadata") or {}, obj.get("spec")
        where = f"{HELM_KIND} {meta.get('namespace') or ''}/{meta.get('name')}"
        if not isinstance(spec, Mapping):
            raise ClusterError(f"{where}: spec: Required value", object=where)
        chart = spec.get("chart")
        if isinstance(chart, str):
            chart = {"name": chart}
        if not isinstance(chart, Mapping) or not isinstance(chart.get("name"), str) or not chart["name"]:
            raise ClusterError(
                f"{where}: spec.chart.name: Required value",
                object=where,
                expected="spec.chart: {name, version, repoURL, repoType}",
            )
        values = spec.get("values") or {}
        if not isinstance(values, Mapping):
            raise ClusterError(
                f"{where}: spec.values must be a mapping", object=where, got=type(values).__name__
            )
        repo_type = str(chart.get("repoType") or "helm")
        if repo_type not in ("helm", "oci", "local"):
            raise ClusterError(
                f"{where}: spec.chart.repoType: Unsupported value: {repo_type!r}",
                object=where,
                expected="helm, oci or local",
            )
        version = chart.get("version") or spec.get("version")
        ref = chart.get("secretRef")
        secret_ref = None
        if ref is not None:
            if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str) or repo_type != "helm":
                raise ClusterError(
                    f"{where}: spec.chart.secretRef: a Secret's name, for a helm repository only",
                    object=where,
                    expected="{name, namespace} with repoType helm",
                )
            secret_ref = (str(ref.get("namespace") or meta.get("namespace") or "default"), ref["name"])
        return cls(
            release=str(spec.get("releaseName") or meta.get("name")),
            chart=chart["name"],
            version=str(version) if version else None,
            repo_url=chart.get("repoURL") or None,
            repo_type=repo_type,
            values=dict(values),
            secret_ref=secret_ref,
            atomic=spec.get("atomic") is True,
        )

    def chart_args(self, alias: str | None = None) -> list[str]:
        """The chart argument of ``helm upgrade`` and the flags that locate it (``alias``: the
        name the repository was added under, for one that needs credentials)."""
        if alias is not None:
            return [f"{alias}/{self.chart}", *(["--version", self.version] if self.version else [])]
        if self.repo_type == "oci" or self.chart.startswith("oci://"):
            ref = self.chart
            if not ref.startswith("oci://"):
                base = (self.repo_url or "").rstrip("/")
                base = base if base.startswith("oci://") else f"oci://{base}"
                ref = f"{base}/{ref}"
            args = [ref]
        elif self.repo_type == "local" or not self.repo_url:
            path = Path(self.chart)
            if not path.is_absolute() and self.repo_url:
                path = Path(self.repo_url) / path
            args = [str(path)]
        else:
            args = [self.chart, "--repo", str(self.repo_url)]
        if self.version and self.repo_type != "local":
            args += ["--version", self.version]
        return args

    def describe(self) -> str:
        where = f" from {self.repo_url}" if self.repo_url else ""
        return f"chart {self.chart}{' ' + self.version if self.version else ''}{where}"


def spec_hash(spec: Any) -> str:
    data = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.blake2b(data, digest_size=8).hexdigest()


@attrs.frozen
class KubeTarget:
    """Which cluster helm talks to: the kubeconfig and context pyvela was given."""

    kubeconfig: str | None = None
    context: str | None = None

    def args(self) -> list[str]:
        out = []
        if self.kubeconfig:
            out += ["--kubeconfig", self.kubeconfig]
        if self.context:
            out += ["--kube-context", self.context]
        return out


def upgrade_command(
    helm: str,
    spec: HelmSpec,
    namespace: str,
    *,
    values_file: str,
    labels: Mapping[str, str],
    description: str,
    target: KubeTarget,
    chart_args: list[str] | None = None,
) -> list[str]:
    """``helm upgrade --install`` without waiting: pyvela watches readiness itself."""
    label_arg = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return [
        helm,
        "upgrade",
        "--install",
        spec.release,
        *(chart_args if chart_args is not None else spec.chart_args()),
        "--namespace",
        namespace,
        "--create-namespace",
        "--values",
        values_file,
        "--labels",
        label_arg,
        "--description",
        description,
        *target.args(),
    ]


def uninstall_command(helm: str, release: str, namespace: str, target: KubeTarget) -> list[str]:
    return [helm, "uninstall", release, "--namespace", namespace, *target.args()]


def run_helm(
    cmd: list[str],
    *,
    what: str,
    redact: Callable[[str], str],
    values: Mapping[str, Any] | None = None,
    timeout: float = 600.0,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> str:
    """Run helm (with ``values`` in a private temporary file named by ``{values}``); its stdout.

    ``env``: variables added to helm's environment; ``stdin``: what helm reads (a password
    given with ``--password-stdin``, never on its command line).

    Raises ClusterError with helm's stderr (TransientError when it reads as temporary).
    """
    with tempfile.TemporaryDirectory(prefix="pyvela-helm-") as tmp:
        if values is not None:
            path = Path(tmp) / "values.yaml"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                yaml.safe_dump(dict(values), fh)
            cmd = [str(path) if arg == "{values}" else arg for arg in cmd]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, **env} if env else None,
                **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}),
            )
        except subprocess.TimeoutExpired as exc:
            raise TransientError(f"{what}: helm did not finish within {timeout:g}s", object=what) from exc
        except OSError as exc:
            raise ClusterError(
                f"helm not found: cannot run {cmd[0]}: {exc}",
                object=what,
                fix="install helm or set PYVELA_HELM",
            ) from exc
    if proc.returncode == 0:
        return proc.stdout
    stderr = redact((proc.stderr or proc.stdout).strip())[-3000:]
    low = stderr.lower()
    if "unknown flag: --labels" in low:
        raise ClusterError(
            f"{what}: helm is too old: {stderr}", object=what, fix="install helm 3.13 or newer"
        )
    if any(hint in low for hint in _TRANSIENT_HINTS) and "chart" not in low:
        raise TransientError(f"{what}: helm failed (exit {proc.returncode}): {stderr}", object=what)
    if cmd[1:2] == ["upgrade"] and any(hint in low for hint in _FETCH_HINTS):
        raise ClusterError(
            f"{what}: cannot fetch the chart: {stderr}",
            object=what,
            fix="check the chart name, version and repository URL (is the repository reachable?)",
        )
    raise ClusterError(f"{what}: helm failed (exit {proc.returncode}): {stderr}", object=what)
