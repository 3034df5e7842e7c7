"""Resource policies at apply time (as KubeVela's ``pkg/resourcekeeper``): take-over,
read-only, shared-resource, apply-once and resource-update; and giving an object up
(delete, orphan, unlabel, or only leave a share) for prune and delete.

Every policy selects objects by its rules' selectors (``pyvela._core.selectors``), over
the :class:`Facts` of each object: its kind and name, and the component, component type,
OAM type and trait that rendered it. By default an object that exists and is not owned by
the app stops the deploy; these policies are the explicit ways around it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pyvela._backends.protocol import Backend
from pyvela._core import fieldpaths
from pyvela._core.objects import LABEL_APP, LABEL_MANAGED_BY, MANAGER, Obj, ObjectRef, deep_copy
from pyvela._core.policies_builtin import (
    ApplyOnceParams,
    GarbageCollectParams,
    ResourceUpdateParams,
    ResourceUpdateStrategy,
    SelectorParams,
)
from pyvela._core.selectors import AUXILIARY, Facts
from pyvela.errors import ConflictError, OwnershipError, RenderError

ANNOTATION_SHARED_BY = "app.oam.dev/shared-by"
#: How a later sharer writes a shared object: the live object, with only its sharers changed.
REPLACE = ResourceUpdateStrategy(op="replace")
#: On objects of an app whose apply-once policy has no rules: the hash of what the app last
#: rendered, so a deploy that renders the same leaves the live object (and its drift) alone.
ANNOTATION_RENDER_HASH = "pyvela.dev/render-hash"


def facts_of(
    ref: ObjectRef,
    *,
    component: str | None,
    trait: str | None,
    output: str | None = None,
    component_type: str | None = None,
) -> Facts:
    """What a selector reads about an object (``output``: a component's extra output's name)."""
    if component is None:
        return Facts(kind=ref.kind, name=ref.name)
    if trait is None and output is None:
        return Facts(
            kind=ref.kind,
            name=ref.name,
            component=component,
            component_type=component_type,
            oam_type="WORKLOAD",
        )
    return Facts(
        kind=ref.kind,
        name=ref.name,
        component=component,
        component_type=component_type,
        oam_type="TRAIT",
        trait_type=trait if trait is not None else AUXILIARY,
    )


class ResourcePolicies:
    """The app's resource policies, asked per object."""

    def __init__(
        self, policies: Iterable[tuple[str, Any]], *, component_types: Mapping[str, str] | None = None
    ) -> None:
        self._by_type: dict[str, list[SelectorParams]] = {}
        self.apply_once: ApplyOnceParams | None = None
        self.resource_update: ResourceUpdateParams | None = None
        self.gc = GarbageCollectParams()
        for type_name, params in policies:
            if isinstance(params, SelectorParams):
                self._by_type.setdefault(type_name, []).append(params)
            elif isinstance(params, ApplyOnceParams):
                self.apply_once = params
            elif isinstance(params, ResourceUpdateParams):
                self.resource_update = params
            elif isinstance(params, GarbageCollectParams):
                self.gc = params
        self.component_types = dict(component_types or {})

    def facts(
        self, ref: ObjectRef, *, component: str | None, trait: str | None, output: str | None = None
    ) -> Facts:
        kind = self.component_types.get(component) if component is not None else None
        return facts_of(ref, component=component, trait=trait, output=output, component_type=kind)

    def _any(self, type_name: str, facts: Facts) -> bool:
        return any(p.covers(facts) for p in self._by_type.get(type_name, ()))

    def take_over(self, facts: Facts) -> bool:
        return self._any("take-over", facts)

    def read_only(self, facts: Facts) -> bool:
        return self._any("read-only", facts)

    def shared(self, facts: Facts) -> bool:
        return self._any("shared-resource", facts)

    def check_owner(self, live: Obj, ref: ObjectRef, facts: Facts, *, app: str) -> None:
        """Raise OwnershipError unless ``live`` is ``app``'s, or belongs to no app and a
        take-over policy adopts it. An object of another app is never taken over."""
        labels = (live.get("metadata") or {}).get("labels") or {}
        owner = labels.get(LABEL_APP)
        if owner == app and labels.get(LABEL_MANAGED_BY) == MANAGER:
            return
        # An object labelled for this app by KubeVela (no pyvela label) belongs to no other app.
        if (not owner or owner == app) and self.take_over(facts):
            return
        raise OwnershipError(
            f"{ref} already exists and is not owned by app {app!r}",
            object=str(ref),
            component=facts.component,
            got=f"owned by app {owner!r}" if owner else "no ownership labels (created by someone else)",
            fix="rename the object, delete it, or share it (a shared-resource policy in both apps)"
            if owner
            else "rename the object, delete it, or add a take-over policy selecting it",
        )

    # ------------------------------------------------------------------ apply-once, resource-update

    def drift(self, obj: Obj, live: Obj | None, facts: Facts) -> Obj | None:
        """``obj`` with the fields apply-once leaves to drift taken from ``live``; None when the
        object must not be written at all (``*``, or unchanged since the app last wrote it)."""
        ao = self.apply_once
        if ao is None or not ao.enable:
            return obj
        if ao.whole_app:
            digest = render_hash(obj)
            obj.setdefault("metadata", {}).setdefault("annotations", {})[ANNOTATION_RENDER_HASH] = digest
            if live is not None and _annotation(live, ANNOTATION_RENDER_HASH) == digest:
                return None
            return obj
        strategy = ao.strategy_for(facts)
        if strategy is None or not strategy.on_deploy or live is None:
            return obj
        if "*" in strategy.path:
            return None
        for path in strategy.path:
            segments = fieldpaths.parse(path)
            value = fieldpaths.get(live, segments)  # absent live: absent from what is written
            try:
                fieldpaths.put(obj, segments, value if value is fieldpaths.MISSING else deep_copy(value))
            except ValueError as exc:
                ref = ObjectRef.of(obj)
                raise RenderError(
                    f"apply-once cannot keep {path} of {ref} as it is live: {exc}",
                    object=str(ref),
                    component=facts.component,
                    fix="point the apply-once path at a field both the app's object and the live one have",
                ) from None
        return obj

    def update_strategy(self, facts: Facts) -> ResourceUpdateStrategy | None:
        return None if self.resource_update is None else self.resource_update.strategy_for(facts)


def render_hash(obj: Mapping[str, Any]) -> str:
    body = deep_copy(dict(obj))
    meta = body.get("metadata") or {}
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(ANNOTATION_RENDER_HASH, None)
        if not annotations:
            # The hash annotation is the only one the app never set: the object stamped with it
            # must hash as the object rendered without it.
            del meta["annotations"]
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _annotation(obj: Mapping[str, Any] | None, key: str) -> str | None:
    value = (((obj or {}).get("metadata") or {}).get("annotations") or {}).get(key)
    return value if isinstance(value, str) else None


def must_recreate(strategy: ResourceUpdateStrategy, live: Obj, desired: Obj) -> str | None:
    """The first of ``recreate_fields`` whose value ``desired`` changes (absent counts as a value)."""
    for path in strategy.recreate_fields:
        segments = fieldpaths.parse(path)
        if fieldpaths.get(live, segments) != fieldpaths.get(desired, segments):
            return path
    return None


def write(
    backend: Backend,
    obj: Obj,
    live: Obj | None,
    strategy: ResourceUpdateStrategy | None,
    *,
    force: bool,
    timeout: float,
) -> tuple[Obj, str | None]:
    """Write ``obj`` as the resource-update strategy says; returns the live object and, when
    the strategy changed how, ``"replaced"`` or ``"recreated (<field> changed)"``."""
    if live is None or strategy is None:
        return backend.apply(obj, force=force), None
    ref = ObjectRef.of(obj)
    changed = must_recreate(strategy, live, obj)
    if changed is not None:
        backend.delete(ref, wait=True, timeout=timeout)
        return backend.create(obj), f"recreated ({changed} changed)"
    if strategy.op == "replace":
        for _attempt in range(5):
            body = deep_copy(obj)
            body["metadata"]["resourceVersion"] = live["metadata"].get("resourceVersion")
            try:
                return backend.replace(body), "replaced"
            except ConflictError:
                current = backend.get(ref)
                if current is None:
                    return backend.apply(obj, force=force), None
                live = current
        raise ConflictError(f"could not replace {ref}: it keeps changing", object=str(ref))
    return backend.apply(obj, force=force), None


# ---------------------------------------------------------------------- shared-resource


def sharers(live: Obj | None) -> list[str]:
    """The apps (``namespace/app``) sharing an object, from its annotation."""
    text = _annotation(live, ANNOTATION_SHARED_BY) or ""
    return [s for s in text.split(",") if s]


def share(obj: Obj, live: Obj | None, me: str, *, app: str) -> Obj | None:
    """Join ``me`` to the sharers of ``obj`` (about to be applied).

    Returns None when this app writes ``obj`` itself (it creates it, or owns it); else the
    live object with only ``me`` added to its sharers, to be written instead (only the first
    app writes a shared object, as in KubeVela). An object of another app that it does not
    share is refused.
    """
    current = sharers(live)
    joined = ",".join([*current, me] if me not in current else current)
    obj.setdefault("metadata", {}).setdefault("annotations", {})[ANNOTATION_SHARED_BY] = joined
    if live is None:
        return None
    owner = ((live.get("metadata") or {}).get("labels") or {}).get(LABEL_APP)
    if not owner or owner == app:
        return None
    if not current:
        ref = ObjectRef.of(live)
        raise OwnershipError(
            f"{ref} belongs to app {owner!r}, which does not share it",
            object=str(ref),
            expected=f"annotation {ANNOTATION_SHARED_BY} on it (app {owner!r} sharing it)",
            got="no sharers",
            fix=f"add a shared-resource policy selecting it to app {owner!r} too, and deploy that first",
        )
    updated: Obj = deep_copy(live)
    updated.pop("status", None)
    updated["metadata"].setdefault("annotations", {})[ANNOTATION_SHARED_BY] = joined
    return updated


def shared_by_others(live: Obj | None, me: str) -> bool:
    """Whether apps other than ``me`` share ``live``."""
    return any(s != me for s in sharers(live))


def owns(live: Obj, me: str, app: str) -> bool:
    """Whether the app (``me`` = ``namespace/app``) owns or shares ``live``: only then may it
    delete it (read-only objects and other apps' objects are left alone)."""
    labels = (live.get("metadata") or {}).get("labels") or {}
    return labels.get(LABEL_APP) == app or me in sharers(live)


def release(
    backend: Backend,
    ref: ObjectRef,
    me: str,
    *,
    app: str | None = None,
    orphan: bool = False,
    keep: bool = False,
    timeout: float = 120.0,
) -> str:
    """Give up ``me``'s hold on an object: delete it when nobody else shares it.

    ``orphan`` leaves its dependents in place; ``keep`` (garbage-collect ``never``) leaves
    the object too, without the app's ownership labels. Returns ``"deleted"``,
    ``"released"`` (others still share it), ``"kept"``, ``"not-owned"`` or ``"absent"``.
    """
    app = app or me.split("/")[-1]
    for _attempt in range(5):
        live = backend.get(ref)
        if live is None:
            return "absent"
        if not owns(live, me, app):
            return "not-owned"
        others = [s for s in sharers(live) if s != me]
        if not others and not keep:
            if backend.delete(ref, wait=True, timeout=timeout, orphan=orphan):
                return "deleted"
            return "absent"
        updated = deep_copy(live)
        updated.pop("status", None)
        meta = updated["metadata"]
        labels = meta.setdefault("labels", {})
        annotations = meta.setdefault("annotations", {})
        if others:
            annotations[ANNOTATION_SHARED_BY] = ",".join(others)
            if labels.get(LABEL_APP) == app:
                labels[LABEL_APP] = others[0].split("/")[-1]  # the next sharer owns it now
        else:
            annotations.pop(ANNOTATION_SHARED_BY, None)
            labels.pop(LABEL_APP, None)
            labels.pop(LABEL_MANAGED_BY, None)
        try:
            backend.replace(updated)
            return "released" if others else "kept"
        except ConflictError:
            continue  # someone changed it meanwhile: read again
    raise ConflictError(f"could not release {ref}: it keeps changing", object=str(ref))
