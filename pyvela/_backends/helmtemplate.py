"""A HelmRelease's chart opened with ``helm template``: the objects helm would install.

``render`` and ``diff`` show a release's own objects, not only the HelmRelease pyvela
applies. This needs the helm CLI and the chart: when either is missing, or the chart needs
what only the cluster has (``valuesFrom`` keys or repository credentials with no backend to
read them), the result is no objects and a note saying why, and the caller keeps showing
the release as it is simulated. With a backend (``diff``, the sandbox) a repository's
``secretRef`` credentials are read from it and given to helm as a deploy gives them
(``helm_auth``). Credentials never reach the note: a URL's ``user:password@`` and the
Secret's password are cut from helm's messages, and values go to helm in a private file.
Imported only when a HelmRelease is rendered, so renders of other apps do not pay for it.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import yaml

from pyvela._backends.helmvalues import entries_of, repo_credentials, resolve
from pyvela._backends.kube.errors import Redactor
from pyvela._backends.kube.helm import HelmSpec, find_helm, run_helm
from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import ClusterError, PyvelaError

__all__ = ["ANN_CHART", "ANN_RELEASE", "ENV_TIMEOUT", "TIMEOUT", "Templated", "template", "timeout"]

#: On each object of a chart: the release it comes from (``namespace/name``) and the chart.
ANN_RELEASE = "pyvela.dev/helm-release"
ANN_CHART = "pyvela.dev/helm-chart"
_USERINFO = re.compile(r"(://)[^/@\s]+@")
_HELM_FAILED = re.compile(r"helm failed \(exit \d+\): (Error: )?")
#: How long one ``helm template`` (fetching the chart included) may take, in seconds. helm
#: itself waits 120 s for a repository that accepts connections and never answers: a render
#: is not held that long (a deploy fetches with its own, longer, limit).
TIMEOUT = 30.0
ENV_TIMEOUT = "PYVELA_HELM_TEMPLATE_TIMEOUT"


def timeout(environ: Mapping[str, str] | None = None) -> float:
    """``$PYVELA_HELM_TEMPLATE_TIMEOUT`` seconds when it is a positive number, else ``TIMEOUT``."""
    raw = (os.environ if environ is None else environ).get(ENV_TIMEOUT, "").strip()
    try:
        value = float(raw)
    except ValueError:
        return TIMEOUT
    return value if value > 0 else TIMEOUT


@attrs.frozen(kw_only=True)
class Templated:
    """The chart's objects, or none and ``note``: why the release is only simulated.

    ``failed``: the chart could not be opened (helm failed, the repository did not answer, a
    credentials Secret will not do), as against not tried (no helm, offline values).
    """

    objects: list[Obj] = attrs.field(factory=list)
    note: str | None = None
    failed: bool = False


class _Redact(Redactor):
    """The Secret's password (once added) and any URL's ``user:password@`` cut from text."""

    def __call__(self, text: str) -> str:
        return _USERINFO.sub(r"\1***@", super().__call__(text))


def _said(exc: PyvelaError) -> str:
    """The error on one line: its message and, in brackets, the fix."""
    return exc.message + (f" (fix: {exc.fix})" if exc.fix else "")


def _redact(text: str) -> str:
    return _Redact()(text)


def template(
    release: Mapping[str, Any],
    namespace: str,
    *,
    get: Callable[[ObjectRef], Obj | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Templated:
    """Run ``helm template`` for the HelmRelease ``release`` installed in ``namespace``.

    ``get`` reads the ConfigMaps/Secrets of ``valuesFrom`` and the repository's credentials
    Secret (None: offline, and a release that needs either is not opened).
    """
    meta = release.get("metadata") or {}
    where = f"HelmRelease {namespace}/{meta.get('name')}"
    try:
        spec = HelmSpec.of(release)
    except ClusterError as exc:
        return Templated(note=f"{where}: {_said(exc)}", failed=True)
    if spec.secret_ref is not None and get is None:
        return Templated(
            note=f"{where}: its chart repository needs credentials from the Secret "
            f"{spec.secret_ref[0]}/{spec.secret_ref[1]}, which an offline render does not read; "
            "`pyvela diff` reads it"
        )
    raw = release.get("spec") or {}
    values: dict[str, Any] = dict(spec.values)
    try:
        if entries_of(raw, where):
            if get is None:
                return Templated(
                    note=f"{where}: its valuesFrom (ConfigMap/Secret keys) needs the cluster; "
                    "`pyvela diff` reads them"
                )
            values = resolve(raw, namespace, get, where)  # the inline values over them
        credentials = None
        if spec.secret_ref is not None and get is not None:
            credentials = repo_credentials(get, *spec.secret_ref, where)  # never in a message
    except ClusterError as exc:
        return Templated(note=_said(exc), failed=True)
    try:
        helm = find_helm(environ)
    except ClusterError:
        return Templated(note=f"{where}: helm is not installed (nor PYVELA_HELM set)")
    limit = timeout(environ)
    redact = _Redact()
    try:
        with contextlib.ExitStack() as stack:
            env: dict[str, str] = {}
            chart_args = spec.chart_args()
            if credentials is not None:
                from pyvela._backends.kube.helm_auth import authenticated_repo

                env, chart_args = stack.enter_context(
                    authenticated_repo(helm, spec, credentials, what=where, redact=redact, timeout=limit)
                )
            cmd = [
                helm,
                "template",
                spec.release,
                *chart_args,
                "--namespace",
                namespace,
                "--values",
                "{values}",
            ]
            out = run_helm(cmd, what=where, redact=redact, values=values, timeout=limit, env=env)
    except PyvelaError as exc:
        # The message starts with ``where``: helm's stderr (redacted already) after it.
        said = _HELM_FAILED.sub("helm: ", exc.message.removeprefix(f"{where}: "))
        if "did not finish within" in said:
            said = f"no answer within {limit:g}s (${ENV_TIMEOUT} sets the limit)"
        return Templated(note=redact(f"{where}: cannot open the {spec.describe()}: {said}"), failed=True)
    try:
        docs = [d for d in yaml.safe_load_all(out) if isinstance(d, Mapping) and d.get("kind")]
    except yaml.YAMLError as exc:
        return Templated(note=f"{where}: helm template printed what is not YAML: {exc}")
    chart = spec.chart + (f"-{spec.version}" if spec.version else "")
    objects = []
    for doc in docs:
        obj = dict(doc)
        obj_meta = dict(obj.get("metadata") or {})
        obj_meta["annotations"] = {
            **(obj_meta.get("annotations") or {}),
            ANN_RELEASE: f"{namespace}/{spec.release}",
            ANN_CHART: chart,
        }
        obj["metadata"] = obj_meta
        objects.append(obj)
    return Templated(objects=objects)
