"""A HelmRelease's chart opened with ``helm template``: the objects helm would install.

``render`` and ``diff`` show a release's own objects, not only the HelmRelease pyvela
applies. This needs the helm CLI and the chart: when either is missing, or the chart needs
what only the cluster has (repository credentials in a Secret, ``valuesFrom`` keys with no
backend to read them), the result is no objects and a note saying why, and the caller keeps
showing the release as it is simulated. Credentials never reach the note: a URL's
``user:password@`` is cut from helm's messages, and values go to helm in a private file.
Imported only when a HelmRelease is rendered, so renders of other apps do not pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import yaml

from pyvela._backends.helmvalues import entries_of, resolve
from pyvela._backends.kube.helm import HelmSpec, find_helm, run_helm
from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import ClusterError, PyvelaError

__all__ = ["ANN_CHART", "ANN_RELEASE", "Templated", "template"]

#: On each object of a chart: the release it comes from (``namespace/name``) and the chart.
ANN_RELEASE = "pyvela.dev/helm-release"
ANN_CHART = "pyvela.dev/helm-chart"
_USERINFO = re.compile(r"(://)[^/@\s]+@")
#: ``helm template`` renders offline once the chart is fetched; a slow repository is not waited on.
TIMEOUT = 120.0


@attrs.frozen(kw_only=True)
class Templated:
    """The chart's objects, or none and ``note``: why the release is only simulated."""

    objects: list[Obj] = attrs.field(factory=list)
    note: str | None = None


def _redact(text: str) -> str:
    return _USERINFO.sub(r"\1***@", text)


def template(
    release: Mapping[str, Any],
    namespace: str,
    *,
    get: Callable[[ObjectRef], Obj | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Templated:
    """Run ``helm template`` for the HelmRelease ``release`` installed in ``namespace``.

    ``get`` reads the ConfigMaps/Secrets of ``valuesFrom`` (None: offline, and a release that
    has ``valuesFrom`` is not opened, since its values are not known).
    """
    meta = release.get("metadata") or {}
    where = f"HelmRelease {namespace}/{meta.get('name')}"
    try:
        spec = HelmSpec.of(release)
    except ClusterError as exc:
        return Templated(note=f"{where}: {exc}")
    if spec.secret_ref is not None:
        return Templated(
            note=f"{where}: its chart repository needs credentials from the Secret "
            f"{spec.secret_ref[0]}/{spec.secret_ref[1]}, which pyvela does not read to render"
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
    except ClusterError as exc:
        return Templated(note=str(exc))
    try:
        helm = find_helm(environ)
    except ClusterError:
        return Templated(note=f"{where}: helm is not installed (nor PYVELA_HELM set)")
    cmd = [
        helm,
        "template",
        spec.release,
        *spec.chart_args(),
        "--namespace",
        namespace,
        "--values",
        "{values}",
    ]
    try:
        out = run_helm(cmd, what=where, redact=_redact, values=values, timeout=TIMEOUT)
    except PyvelaError as exc:
        # The message starts with ``where``: helm's stderr (redacted already) after it.
        said = exc.message.removeprefix(f"{where}: ")
        return Templated(note=_redact(f"{where}: cannot open the {spec.describe()}: {said}"))
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
