"""The chart objects of an app's HelmReleases, for ``render`` and ``diff``.

Each HelmRelease is followed by the objects ``helm template`` makes of its chart, each
annotated with the release and chart it comes from. A release whose chart cannot be opened
(no helm, unreachable repository, credentials or ``valuesFrom`` that need the cluster) is
shown alone, as before, with one note on stderr saying it is simulated and why. The helm
code is imported here, and this module only when an app renders a HelmRelease.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from pyvela._app.render import CLUSTER_SCOPED, RenderedObject
from pyvela._backends.helmtemplate import ANN_CHART, ANN_RELEASE, template
from pyvela._core.objects import Obj, ObjectRef, is_helm_release

__all__ = ["chart_objects", "chart_rendered", "expand", "note"]


def note(reason: str) -> None:
    print(f"note: simulating the release without opening its chart: {reason}", file=sys.stderr)


def chart_objects(
    release: Obj, namespace: str, *, get: Callable[[ObjectRef], Obj | None] | None = None
) -> list[Obj]:
    """The chart's objects of ``release`` (namespaced ones in the release's namespace), or
    none and the note printed."""
    ns = (release.get("metadata") or {}).get("namespace") or namespace
    done = template(release, ns, get=get)
    if done.note is not None:
        note(done.note)
    for obj in done.objects:
        meta = obj["metadata"]
        if obj.get("kind") not in CLUSTER_SCOPED and not meta.get("namespace"):
            meta["namespace"] = ns
    return done.objects


def expand(objects: Iterable[Any], namespace: str) -> list[Any]:
    """``objects`` with each HelmRelease followed by its chart's objects (offline: no Secrets)."""
    out: list[Any] = []
    for obj in objects:
        out.append(obj)
        if is_helm_release(obj):
            out.extend(chart_objects(obj, namespace))
    return out


def chart_rendered(
    ro: RenderedObject, namespace: str, get: Callable[[ObjectRef], Obj | None]
) -> list[tuple[RenderedObject, str]]:
    """For ``diff``: the chart's objects of the HelmRelease ``ro`` (``valuesFrom`` read with
    ``get``), without the origin annotations (helm does not set them, so they would show as
    a change), each with the note saying where it comes from."""
    out = []
    for obj in chart_objects(ro.object, namespace, get=get):
        annotations = obj["metadata"].pop("annotations")
        origin = f"from chart {annotations.pop(ANN_CHART)} of release {annotations.pop(ANN_RELEASE)}"
        if annotations:
            obj["metadata"]["annotations"] = annotations
        out.append((RenderedObject(component=ro.component, trait=None, output="chart", object=obj), origin))
    return out
