"""Resource policies (as KubeVela's): take-over, read-only and shared-resource.

Each selects objects by kind, name and component (every criterion given must match; an
empty policy matches every object of the app). By default an object that exists and is
not owned by the app stops the deploy; these policies are the explicit ways around it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyvela._backends.protocol import Backend
from pyvela._core.objects import LABEL_APP, LABEL_MANAGED_BY, MANAGER, Obj, ObjectRef, deep_copy
from pyvela._core.selectors import ResourceSelector
from pyvela.errors import ConflictError, OwnershipError

ANNOTATION_SHARED_BY = "app.oam.dev/shared-by"


class ResourcePolicies:
    """The app's resource policies, asked per object."""

    def __init__(self, policies: Iterable[tuple[str, Any]]) -> None:
        self._by_type: dict[str, list[ResourceSelector]] = {}
        for type_name, params in policies:
            if isinstance(params, ResourceSelector):
                self._by_type.setdefault(type_name, []).append(params)

    def _any(self, type_name: str, ref: ObjectRef, component: str | None) -> bool:
        return any(s.matches(ref, component) for s in self._by_type.get(type_name, ()))

    def check_owner(self, live: Obj, ref: ObjectRef, component: str | None, *, app: str) -> None:
        """Raise OwnershipError unless ``live`` is ``app``'s or a take-over policy adopts it."""
        labels = (live.get("metadata") or {}).get("labels") or {}
        owner = labels.get(LABEL_APP)
        if owner == app and labels.get(LABEL_MANAGED_BY) == MANAGER:
            return
        if self.take_over(ref, component):
            return
        raise OwnershipError(
            f"{ref} already exists and is not owned by app {app!r}",
            object=str(ref),
            component=component,
            got=f"owned by {owner!r}" if owner else "no pyvela ownership labels (created by someone else)",
            fix="rename the component, delete the object, or add a take-over or shared-resource policy",
        )

    def take_over(self, ref: ObjectRef, component: str | None) -> bool:
        return self._any("take-over", ref, component)

    def read_only(self, ref: ObjectRef, component: str | None) -> bool:
        return self._any("read-only", ref, component)

    def shared(self, ref: ObjectRef, component: str | None) -> bool:
        return self._any("shared-resource", ref, component)


def sharers(live: Obj | None) -> list[str]:
    """The apps (``namespace/app``) sharing an object, from its annotation."""
    text = (((live or {}).get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_SHARED_BY, "")
    return [s for s in str(text).split(",") if s]


def share(obj: Obj, live: Obj | None, me: str) -> None:
    """Mark ``obj`` (about to be applied) as shared by ``me``, keeping the first owner's label."""
    meta = obj.setdefault("metadata", {})
    current = sharers(live)
    if live is not None:
        owner = ((live.get("metadata") or {}).get("labels") or {}).get(LABEL_APP)
        if owner:
            meta.setdefault("labels", {})[LABEL_APP] = owner
        if not current and owner:
            current = [owner if "/" in owner else f"{ObjectRef.of(live).namespace}/{owner}"]
    if me not in current:
        current.append(me)
    meta.setdefault("annotations", {})[ANNOTATION_SHARED_BY] = ",".join(current)


def release(backend: Backend, ref: ObjectRef, me: str, *, timeout: float = 120.0) -> str:
    """Give up ``me``'s share of an object: delete it when nobody else shares it.

    Returns ``"deleted"``, ``"released"`` (others still share it) or ``"absent"``.
    """
    for _attempt in range(5):
        live = backend.get(ref)
        if live is None:
            return "absent"
        others = [s for s in sharers(live) if s != me]
        if not others:
            return "deleted" if backend.delete(ref, wait=True, timeout=timeout) else "absent"
        updated = deep_copy(live)
        meta = updated["metadata"]
        meta.setdefault("annotations", {})[ANNOTATION_SHARED_BY] = ",".join(others)
        labels = meta.setdefault("labels", {})
        if f"{ref.namespace}/{labels.get(LABEL_APP)}" == me or labels.get(LABEL_APP) == me.split("/")[-1]:
            labels[LABEL_APP] = others[0].split("/")[-1]  # the next sharer owns it now
        try:
            backend.replace(updated)
            return "released"
        except ConflictError:
            continue  # someone changed it meanwhile: read again
    raise ConflictError(f"could not release the shared {ref}: it keeps changing", object=str(ref))
