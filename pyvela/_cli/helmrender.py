"""The chart objects of an app's HelmReleases, for ``render`` and ``diff``.

Each HelmRelease is followed by the objects ``helm template`` makes of its chart, each
annotated with the release and chart it comes from. A release whose chart is not opened is
shown alone, as before, with one line on stderr naming its component: a ``note`` when it was
not tried (``--no-charts``, no helm, credentials or ``valuesFrom`` that need the cluster),
a ``warning`` when it could not be opened (helm failed, the repository did not answer).
``--strict`` makes either an error instead, as ``helm template`` and Argo CD fail a render
whose chart cannot be fetched. A repository that did not answer is not asked again in the
same command, so an offline render costs one timeout, not one per release. The helm code is
imported here, and this module only when an app renders a HelmRelease.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from pyvela._app.render import CLUSTER_SCOPED, RenderedObject
from pyvela._backends.helmtemplate import ANN_CHART, ANN_RELEASE, template
from pyvela._core.objects import Obj, ObjectRef, is_helm_release
from pyvela.errors import RenderError

__all__ = ["Charts"]

#: helm's words for a repository it could not reach (as against a chart or values it refused).
_UNREACHABLE = (
    "no answer within",
    "cannot be reached",
    "no such host",
    "connection refused",
    "deadline exceeded",
)


@attrs.define(kw_only=True)
class Charts:
    """How one ``render`` or ``diff`` opens charts. ``open``: False for ``--no-charts``;
    ``strict``: a chart not opened is an error (RenderError), not a line on stderr."""

    open: bool = True
    strict: bool = False
    #: Repository URL -> why it did not answer, for the releases after the first.
    _unreachable: dict[str, str] = attrs.field(factory=dict)

    def _not_opened(self, component: str, reason: str, *, failed: bool) -> None:
        if self.strict:
            raise RenderError(
                f"the chart was not opened: {reason}",
                component=component,
                fix="make the chart reachable, or pass --no-charts to show the HelmRelease alone "
                "(or drop --strict to warn and go on)",
            )
        if failed:
            print(
                f"warning: component {component!r}: {reason}; the HelmRelease is shown alone "
                "(--no-charts: do not open charts; --strict: make this an error)",
                file=sys.stderr,
            )
        else:
            print(
                f"note: component {component!r}: simulating the release without opening its chart: {reason}",
                file=sys.stderr,
            )

    def objects(
        self,
        component: str,
        release: Obj,
        namespace: str,
        *,
        get: Callable[[ObjectRef], Obj | None] | None = None,
    ) -> list[Obj]:
        """The chart's objects of ``release`` (namespaced ones in the release's namespace), or
        none and the line on stderr."""
        ns = (release.get("metadata") or {}).get("namespace") or namespace
        where = f"HelmRelease {ns}/{(release.get('metadata') or {}).get('name')}"
        if not self.open:  # asked for: not an error even with --strict
            print(
                f"note: component {component!r}: {where}: its chart was not opened (--no-charts)",
                file=sys.stderr,
            )
            return []
        repo = str(((release.get("spec") or {}).get("chart") or {}).get("repoURL") or "")
        if repo and repo in self._unreachable:
            self._not_opened(component, f"{where}: {self._unreachable[repo]} (not asked again)", failed=True)
            return []
        done = template(release, ns, get=get)
        if done.note is not None:
            if repo and done.failed and any(word in done.note for word in _UNREACHABLE):
                self._unreachable[repo] = done.note.removeprefix(f"{where}: ")
            self._not_opened(component, done.note, failed=done.failed)
        for obj in done.objects:
            meta = obj["metadata"]
            if obj.get("kind") not in CLUSTER_SCOPED and not meta.get("namespace"):
                meta["namespace"] = ns
        return done.objects

    def expand(self, objects: Iterable[tuple[str, Any]], namespace: str) -> list[Any]:
        """(component, object) pairs as objects, each HelmRelease followed by its chart's
        objects (offline: no Secrets)."""
        out: list[Any] = []
        for component, obj in objects:
            out.append(obj)
            if is_helm_release(obj):
                out.extend(self.objects(component, obj, namespace))
        return out

    def rendered(
        self, ro: RenderedObject, namespace: str, get: Callable[[ObjectRef], Obj | None]
    ) -> list[tuple[RenderedObject, str]]:
        """For ``diff``: the chart's objects of the HelmRelease ``ro`` (``valuesFrom`` and the
        repository's credentials read with ``get``), without the origin annotations (helm does
        not set them, so they would show as a change), each with the note saying where it comes
        from."""
        out = []
        for obj in self.objects(ro.component, ro.object, namespace, get=get):
            annotations = obj["metadata"].pop("annotations")
            origin = f"from chart {annotations.pop(ANN_CHART)} of release {annotations.pop(ANN_RELEASE)}"
            if annotations:
                obj["metadata"]["annotations"] = annotations
            out.append(
                (RenderedObject(component=ro.component, trait=None, output="chart", object=obj), origin)
            )
        return out
