"""Rendering: from an app's components to the objects it will apply, with ownership labels."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from pyvela._app.application import Application
from pyvela._app.patched import check_patched
from pyvela._core.definitions import ComponentContext, ComponentUse, Rendered, TraitContext, TraitResult
from pyvela._core.merge import merge_into, pod_spec
from pyvela._core.objects import (
    AUXILIARY,
    LABEL_APP,
    LABEL_COMPONENT,
    LABEL_MANAGED_BY,
    LABEL_RESOURCE,
    LABEL_TRAIT,
    MANAGER,
    Obj,
    deep_copy,
)
from pyvela.errors import Location, PyvelaError, RenderError

#: Kinds without a namespace (pyvela never sets one on them).
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "ClusterRole",
        "ClusterRoleBinding",
        "StorageClass",
        "CustomResourceDefinition",
        "PriorityClass",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "APIService",
        "RuntimeClass",
    }
)


@attrs.frozen(kw_only=True)
class RenderedObject:
    """One object to apply, and where it comes from.

    Attributes:
        component: The component it belongs to.
        trait: The trait type that produced it (None for the workload and component outputs).
        output: The output name (``"service"``), or None for the workload.
        object: The object itself.
    """

    component: str
    trait: str | None
    output: str | None
    object: Obj

    @property
    def is_workload(self) -> bool:
        return self.output is None


@attrs.frozen(kw_only=True)
class RenderedComponent:
    """A component's objects: the workload first, then outputs in order."""

    name: str
    objects: tuple[RenderedObject, ...]
    warnings: tuple[str, ...] = ()

    @property
    def workload(self) -> Obj:
        return self.objects[0].object

    @property
    def outputs(self) -> dict[str, Obj]:
        return {o.output: o.object for o in self.objects if o.output is not None}


def render_component(
    app: Application,
    use: ComponentUse[Any],
    *,
    revision: str | Callable[[], str] = "",
    workload_patch: Mapping[str, Any] | None = None,
    private: bool = True,
) -> RenderedComponent:
    """Render one component: its definition, then each trait in order (patches merged by key).

    ``private=False`` is for a caller that only reads the objects (``render`` prints them), or
    writes only their metadata, labels and annotations (a deploy's apply: each is the
    renderer's own): they may then share nodes with what definitions hold (a module constant,
    a parameter's dict), which spares walking each one; the renderer's own changes (labels,
    namespace, patches) still never reach a shared node.

    Raises:
        RenderError: naming the component, the trait and the definition's source line,
            with the definition's own exception chained.
    """
    ctx = ComponentContext(
        name=use.name,
        namespace=app.namespace,
        app_name=app.name,
        app_revision=_app_revision(app.name, revision),
        replica_key=use.replica_key,
    )
    result = _call(
        use.definition.render,
        use.params,
        ctx,
        component=use.name,
        where=use.where,
        definition=use.definition.name,
    )
    if isinstance(result, Rendered):
        workload, outputs = result.workload, dict(result.outputs)
    elif isinstance(result, dict):
        workload, outputs = result, {}
    else:
        raise RenderError(
            "a component must return a dict (the workload) or Rendered",
            where=use.definition.where,
            component=use.name,
            expected="dict | Rendered",
            got=type(result).__name__,
        )
    box = [workload]
    del workload, result  # only the box holds them now: see _claim
    lazy = not private and _ALONE is not None
    shared = lazy  # whether the workload's nodes may be shared
    workload = _top(box) if lazy else _claim(box)
    expected = use.definition.workload
    if not expected.accepts(workload.get("apiVersion"), workload.get("kind")):
        raise RenderError(
            "the workload is not of the declared kind",
            where=use.definition.where,
            component=use.name,
            expected=str(expected),
            got=f"{workload.get('apiVersion')} {workload.get('kind')}",
        )
    for t in use.traits if expected.any else ():
        # Checked at load for a declared kind; a workload of any kind is known only now.
        kinds = t.definition.applies_to
        if kinds and workload.get("kind") not in kinds:
            raise RenderError(
                f"trait {t.definition.name!r} cannot be attached to a {workload.get('kind')}",
                where=t.where,
                component=use.name,
                trait=t.definition.name,
                expected=", ".join(kinds),
                got=str(workload.get("kind")),
            )
    items: list[tuple[str | None, str | None, Obj]] = [(None, k, deep_copy(o)) for k, o in outputs.items()]
    for t in use.traits:
        tctx = TraitContext.copying(
            name=ctx.name,
            namespace=ctx.namespace,
            app_name=ctx.app_name,
            app_revision=ctx._app_revision,  # as given: still not computed unless read
            replica_key=ctx.replica_key,
            workload=workload,
            outputs={k: o for _, k, o in items if k is not None},
        )
        tres = _call(
            t.definition.render,
            t.params,
            tctx,
            component=use.name,
            trait=t.definition.name,
            where=t.where,
            definition=t.definition.name,
        )
        if not isinstance(tres, TraitResult):
            raise RenderError(
                "a trait must return TraitResult",
                where=t.definition.where,
                component=use.name,
                trait=t.definition.name,
                got=type(tres).__name__,
            )
        if tres.patch:
            if shared:  # merged in place: every node it may reach must be ours
                _adopt(workload)
                shared = False
            merge_into(workload, tres.patch)  # the renderer's own copy: merged in place
            check_patched(workload, where=t.where, component=use.name, trait=t.definition.name)
        produced = dict(tres.outputs)
        del tres  # it holds the outputs too: see _claim
        for name in list(produced):
            if any(k == name for _, k, _o in items):
                raise RenderError(
                    f"output {name!r} is produced twice",
                    where=t.where,
                    component=use.name,
                    trait=t.definition.name,
                    fix="give each trait output a distinct name",
                )
            box = [produced.pop(name)]
            items.append((t.definition.name, name, _top(box) if lazy else _claim(box)))
    if workload_patch:
        if shared:
            _adopt(workload)
        merge_into(workload, workload_patch)
    objects = [RenderedObject(component=use.name, trait=None, output=None, object=workload)]
    objects += [RenderedObject(component=use.name, trait=tr, output=k, object=o) for tr, k, o in items]
    for ro in objects:
        _own(ro, app, lazy)
    warnings = _port_warnings(objects) + _twice(objects)
    return RenderedComponent(name=use.name, objects=tuple(objects), warnings=tuple(warnings))


# Called directly (not through a function of ours): one Python call less per adopted node.
_count = sys.getrefcount


def _calibrate() -> int | None:
    """The reference count of a node only its container holds, seen from _adopt; None where
    counts do not say that (another interpreter, a build without the GIL)."""
    if sys.implementation.name != "cpython" or not getattr(sys, "_is_gil_enabled", lambda: True)():
        return None
    probe: dict[str, Any] = {"k": {}}
    v = probe["k"]
    alone = _count(v)
    held = [v]
    return alone if _count(v) == alone + len(held) else None


_ALONE = _calibrate()
_ATOMS = frozenset({str, int, float, bool, type(None)})


def _claim(box: list[Any]) -> Any:
    """What ``deep_copy`` of the object in ``box`` gives, reusing each node that nothing else
    holds: a definition's workload is usually built fresh (a template's), and copying it whole
    was half of a large render. A node something else also holds (a module constant, a
    parameter's dict, another place in the same tree) is copied, so the renderer owns every node
    of the result and no two places share one, as with a copy."""
    obj = box.pop()
    if _ALONE is None or type(obj) is not dict:
        return deep_copy(obj)
    own = dict(obj)
    del obj  # if nothing else held the old top, its children are now held by `own` alone
    _adopt(own)
    return own


def _top(box: list[Any]) -> Any:
    """_claim's top node alone: its children stay as they are, shared or not."""
    obj = box.pop()
    if type(obj) is not dict:
        return deep_copy(obj)
    own = dict(obj)
    del obj
    return own


def _adopt(node: Any) -> None:
    if type(node) is dict:
        for k in node:  # values are replaced in place: the keys do not change
            v = node[k]
            kind = type(v)
            if kind in _ATOMS:
                continue
            if (kind is dict or kind is list) and _count(v) <= _ALONE:  # type: ignore[operator]
                _adopt(v)
            else:
                node[k] = deep_copy(v)
    else:
        for i in range(len(node)):
            v = node[i]
            kind = type(v)
            if kind in _ATOMS:
                continue
            if (kind is dict or kind is list) and _count(v) <= _ALONE:  # type: ignore[operator]
                _adopt(v)
            else:
                node[i] = deep_copy(v)


def _app_revision(app: str, revision: str | Callable[[], str]) -> str | Callable[[], str]:
    """``<app>-<hash>``, or a function that gives it: ``ctx.app_revision`` calls it when read."""
    if isinstance(revision, str):
        return f"{app}-{revision[:10]}"
    return lambda: f"{app}-{revision()[:10]}"


def _call(fn: Any, params: Any, ctx: Any, *, where: Location, **context: Any) -> Any:
    try:
        return fn(params, ctx)
    except PyvelaError as exc:
        if exc.where is None:  # a definition's own error (a bad json-patch path): at the use site
            exc.where = where
        raise exc.with_context(**context) from None
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        last = frames[-1] if frames else None
        raise RenderError(
            f"{type(exc).__name__}: {exc}",
            where=Location(last.filename, last.lineno or 0) if last else where,
            used_at=str(where),
            **context,
        ) from exc


def _own(ro: RenderedObject, app: Application, shared: bool) -> None:
    obj = ro.object
    meta = obj.setdefault("metadata", {})
    if shared and (type(meta) is not dict or _count(meta) > _ALONE):  # type: ignore[operator]
        meta = obj["metadata"] = deep_copy(meta)
    labels = meta.setdefault("labels", {})
    if shared and (type(labels) is not dict or _count(labels) > _ALONE):  # type: ignore[operator]
        labels = meta["labels"] = deep_copy(labels)
    notes = meta.get("annotations")
    # A deploy's apply writes annotations in place (shared-resource's sharers, apply-once's hash).
    if shared and notes is not None and (type(notes) is not dict or _count(notes) > _ALONE):  # type: ignore[operator]
        meta["annotations"] = deep_copy(notes)
    labels[LABEL_APP] = app.name
    labels[LABEL_COMPONENT] = ro.component
    labels[LABEL_MANAGED_BY] = MANAGER
    if ro.trait is not None:
        labels[LABEL_TRAIT] = ro.trait
        labels[LABEL_RESOURCE] = ro.output or ""
    elif ro.output is not None:  # a component's extra output: KubeVela labels it so, by its output name
        labels[LABEL_TRAIT] = AUXILIARY
        labels[LABEL_RESOURCE] = ro.output
    if obj.get("kind") not in CLUSTER_SCOPED:
        meta.setdefault("namespace", app.namespace)
    if not meta.get("name"):
        raise RenderError(
            f"a {obj.get('kind')} has no metadata.name",
            component=ro.component,
            trait=ro.trait,
            fix="set metadata.name (usually from ctx.name)",
        )


def _port_warnings(objects: list[RenderedObject]) -> list[str]:
    """Services whose target ports no container of the workload exposes (the seed's 11001)."""
    workload = objects[0].object
    try:
        spec = pod_spec(workload)
    except RenderError:
        return []
    ports = [p for c in spec.get("containers") or [] for p in c.get("ports") or []]
    exposed = {p.get("containerPort") for p in ports} | {p.get("name") for p in ports if p.get("name")}
    warnings = []
    for ro in objects[1:]:
        if ro.object.get("kind") != "Service":
            continue
        for port in ro.object.get("spec", {}).get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            if target not in exposed:
                warnings.append(
                    f"component {ro.component!r}: Service {ro.object['metadata']['name']!r} targets port "
                    f"{target}, which no container of the workload exposes "
                    f"(exposed: {', '.join(str(p) for p in sorted(exposed, key=str)) or 'none'})"
                )
    return warnings


def _twice(objects: list[RenderedObject]) -> list[str]:
    """Objects a component renders twice (a webservice's exposed Service and a gateway's): the
    later apply replaces the first, which is rarely what the author meant."""
    kinds = [ro.object.get("kind") for ro in objects]
    if len(set(kinds)) == len(kinds):
        return []  # the usual case: objects of one kind each, so none can be another's twin
    seen: dict[tuple[Any, ...], RenderedObject] = {}
    out = []
    for ro in objects:
        meta = ro.object.get("metadata") or {}
        key = (ro.object.get("apiVersion"), ro.object.get("kind"), meta.get("namespace"), meta.get("name"))
        first = seen.setdefault(key, ro)
        if first is not ro:
            out.append(
                f"component {ro.component!r}: {key[1]} {key[3]!r} is rendered twice ({_source(first)} and "
                f"{_source(ro)}): the second replaces the first when applied"
            )
    return out


def _source(ro: RenderedObject) -> str:
    if ro.output is None:
        return "the workload"
    return f"trait {ro.trait!r}" if ro.trait else f"the component's output {ro.output!r}"


def render_app(app: Application, *, revision: str = "") -> list[RenderedComponent]:
    """Render every component of ``app`` in order."""
    return [render_component(app, c, revision=revision) for c in app.components]
