"""The renderer owns every node of what it returns: nothing is shared with a definition's
constants, its parameters, another render, or another place in the same object - whether the
workload was copied or (built fresh, held by nothing else) adopted as it was."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pyvela import Application, ComponentContext, TraitContext, TraitResult, WorkloadType, component, trait
from pyvela._app import render as render_module
from pyvela._app.render import render_component

CONSTANT_SPEC: dict[str, Any] = {"replicas": 1, "template": {"spec": {"containers": [{"name": "c"}]}}}
CONSTANT_WORKLOAD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "cm"},
    "data": {"a": "1"},
}


@attrs.frozen(kw_only=True)
class P:
    """Parameters.

    Attributes:
        labels: Labels put on the object as given.
        whole: Return the module's constant workload itself.
    """

    labels: Mapping[str, str]
    whole: bool = False


@component(name="sharing", params=P, workload=WorkloadType(api_version="apps/v1", kind="Deployment"))
def sharing(p: P, ctx: ComponentContext) -> dict[str, Any]:
    tags = {"tier": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": ctx.name, "labels": p.labels, "annotations": tags},
        "spec": CONSTANT_SPEC,
        "extra": [tags, {"fresh": True}],
    }


@component(name="constant", params=P, workload=WorkloadType(api_version="v1", kind="ConfigMap"))
def constant(p: P, ctx: ComponentContext) -> dict[str, Any]:
    return CONSTANT_WORKLOAD


@trait(name="scale-it", params=P)
def scale_it(p: P, ctx: TraitContext) -> TraitResult:
    return TraitResult(patch={"spec": {"replicas": 3}})


def _nodes(obj: Any) -> list[Any]:
    out: list[Any] = []
    stack = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, dict | list):
            out.append(node)
            stack.extend(node.values() if isinstance(node, dict) else node)
    return out


def _app(*uses: Any) -> Application:
    return Application("share", components=list(uses))


def test_nothing_is_shared_with_constants_parameters_or_another_render() -> None:
    labels = {"team": "a"}
    use = sharing("web", labels=labels).with_traits(scale_it(labels={}))
    app = _app(use)
    first = render_component(app, use).workload
    second = render_component(app, use).workload
    held = [labels, CONSTANT_SPEC, *_nodes(CONSTANT_SPEC), *_nodes(second)]
    nodes = _nodes(first)
    assert len({id(n) for n in nodes}) == len(nodes)  # no node twice in one object
    assert not {id(n) for n in nodes} & {id(n) for n in held}
    first["spec"]["template"]["spec"]["containers"][0]["name"] = "changed"
    first["metadata"]["annotations"]["tier"] = "changed"
    assert (
        CONSTANT_SPEC["replicas"] == 1 and CONSTANT_SPEC["template"]["spec"]["containers"][0]["name"] == "c"
    )
    assert labels == {"team": "a"} and first["metadata"]["labels"]["team"] == "a"
    assert second["metadata"]["annotations"] == {"tier": "web"} and first["spec"]["replicas"] == 3


def test_a_constant_workload_is_copied() -> None:
    use = constant("cm", labels={})
    rendered = render_component(_app(use), use).workload
    assert rendered is not CONSTANT_WORKLOAD and rendered["data"] is not CONSTANT_WORKLOAD["data"]
    assert CONSTANT_WORKLOAD["metadata"] == {"name": "cm"}  # no labels or namespace added to it


def test_a_fresh_workload_is_adopted_without_a_copy() -> None:
    # The saving itself: nodes nothing else holds are reused (a copy would give new ones).
    inner = {"b": [{"c": 1}]}
    box = [{"a": inner, "n": 1}]
    inner_id, list_id = id(inner), id(inner["b"])
    del inner
    claimed = render_module._claim(box)
    assert id(claimed["a"]) == inner_id and id(claimed["a"]["b"]) == list_id
    assert claimed == {"a": {"b": [{"c": 1}]}, "n": 1}


CONSTANT_SERVICE: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80}]}}


@trait(name="expose-it", params=P)
def expose_it(p: P, ctx: TraitContext) -> TraitResult:
    fresh = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ctx.name, "labels": p.labels}}
    held = {**CONSTANT_SERVICE, "metadata": {"name": ctx.name}}
    return TraitResult(outputs={"fresh": fresh, "held": held})


def test_trait_outputs_share_nothing_either() -> None:
    labels = {"team": "a"}
    use = sharing("web", labels={}).with_traits(expose_it(labels=labels))
    app = _app(use)
    first, second = render_component(app, use), render_component(app, use)
    held = [labels, *_nodes(CONSTANT_SERVICE), *(n for o in second.objects for n in _nodes(o.object))]
    nodes = [n for o in first.objects for n in _nodes(o.object)]
    assert len({id(n) for n in nodes}) == len(nodes)
    assert not {id(n) for n in nodes} & {id(n) for n in held}
    first.outputs["held"]["spec"]["ports"][0]["port"] = 81
    assert CONSTANT_SERVICE["spec"]["ports"][0]["port"] == 80 and labels == {"team": "a"}
