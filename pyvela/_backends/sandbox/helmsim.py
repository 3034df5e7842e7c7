"""The sandbox installs a HelmRelease's chart objects as helm would, when it can open the chart.

A real cluster gets the objects ``helm template`` makes of the chart (``helm upgrade
--install``), and loses them with the release (``helm uninstall``); ``pyvela diff`` then
compares them. So that the sandbox gives the same verdicts, applying a release stores those
objects (without pyvela's origin annotations, which helm does not set) and deleting it
removes them. Without helm or the chart, the sandbox goes on simulating the release alone, as
``render`` and ``diff`` say. Objects a later chart version drops are not removed (helm's
upgrade would): a limit of this simulation.
"""

from __future__ import annotations

from pyvela._backends.protocol import Backend
from pyvela._core.objects import Obj, ObjectRef, is_helm_release

__all__ = ["install_chart", "uninstall_chart"]


def _chart(sandbox: Backend, release: Obj) -> list[Obj]:
    from pyvela._backends.helmtemplate import ANN_CHART, ANN_RELEASE, template

    meta = release.get("metadata") or {}
    done = template(release, str(meta.get("namespace") or "default"), get=sandbox.get)
    for obj in done.objects:
        obj_meta = obj["metadata"]
        annotations = obj_meta.get("annotations") or {}
        for key in (ANN_RELEASE, ANN_CHART):
            annotations.pop(key, None)
        if not annotations:
            obj_meta.pop("annotations", None)
        if not obj_meta.get("namespace"):
            obj_meta["namespace"] = meta.get("namespace") or "default"  # dropped for cluster kinds
    return done.objects


def install_chart(sandbox: Backend, applied: Obj) -> Obj:
    """After ``applied`` is stored: a HelmRelease's chart objects stored too (``applied``
    returned as it is)."""
    if is_helm_release(applied):
        for obj in _chart(sandbox, applied):
            sandbox.apply(obj, force=True)
    return applied


def uninstall_chart(sandbox: Backend, ref: ObjectRef) -> None:
    """Before the HelmRelease ``ref`` is deleted: its chart objects go."""
    if ref.kind != "HelmRelease":
        return
    release = sandbox.get(ref)
    if release is None or not is_helm_release(release):
        return
    for obj in _chart(sandbox, release):
        sandbox.delete(ObjectRef.of(obj), wait=False)
