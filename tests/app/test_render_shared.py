"""``render_component(private=False)`` (what ``render`` prints): the objects may share nodes
with what definitions hold, but are the same objects as a private render's, and the renderer's
own changes (labels, namespace, trait patches) never reach a shared node."""

from __future__ import annotations

import copy
from typing import Any

from pyvela import ComponentContext, TraitContext, TraitResult, WorkloadType, component, trait
from pyvela._app.loader import load_app
from pyvela._app.render import render_component
from tests.app.test_render_sharing import (
    CONSTANT_SERVICE,
    CONSTANT_SPEC,
    CONSTANT_WORKLOAD,
    P,
    _app,
    constant,
    expose_it,
    scale_it,
    sharing,
)

LABELS: dict[str, str] = {"team": "a"}
META: dict[str, Any] = {"name": "m", "labels": LABELS}


@component(name="held-meta", params=P, workload=WorkloadType(api_version="v1", kind="ConfigMap"))
def held_meta(p: P, ctx: ComponentContext) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": META, "data": {"k": ctx.name}}


@component(name="held-labels", params=P, workload=WorkloadType(api_version="v1", kind="ConfigMap"))
def held_labels(p: P, ctx: ComponentContext) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ctx.name, "labels": LABELS}}


@trait(name="twins", params=P)
def twins(p: P, ctx: TraitContext) -> TraitResult:
    # Two outputs holding one metadata node: each must get its own labels.
    meta = {"name": ctx.name}
    return TraitResult(
        outputs={
            "a": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta},
            "b": {"apiVersion": "v1", "kind": "Secret", "metadata": meta},
        }
    )


def _both(use: Any) -> tuple[Any, Any]:
    app = _app(use)
    return render_component(app, use), render_component(app, use, private=False)


def test_same_objects_as_a_private_render() -> None:
    uses = [
        sharing("web", labels={"x": "y"}).with_traits(scale_it(labels={}), expose_it(labels={"t": "u"})),
        constant("cm", labels={}),
        held_meta("m", labels={}),
        held_labels("l", labels={}).with_traits(twins(labels={})),
    ]
    before = copy.deepcopy([CONSTANT_SPEC, CONSTANT_WORKLOAD, CONSTANT_SERVICE, META])
    for use in uses:
        private, shared = _both(use)
        assert [o.object for o in shared.objects] == [o.object for o in private.objects]
        assert [(o.trait, o.output) for o in shared.objects] == [(o.trait, o.output) for o in private.objects]
        assert shared.warnings == private.warnings
    # Rendering twice (each object labelled, namespaced, patched) changed nothing they hold.
    assert before == [CONSTANT_SPEC, CONSTANT_WORKLOAD, CONSTANT_SERVICE, META]
    assert LABELS == {"team": "a"}


def test_labels_of_one_component_do_not_reach_another() -> None:
    a, b = held_labels("a", labels={}), held_labels("b", labels={})
    app = _app(a, b)
    first = render_component(app, a, private=False).workload
    second = render_component(app, b, private=False).workload
    assert first["metadata"]["labels"]["app.oam.dev/component"] == "a"
    assert second["metadata"]["labels"]["app.oam.dev/component"] == "b"
    assert first["metadata"]["labels"] is not second["metadata"]["labels"]


def test_outputs_sharing_metadata_get_their_own_labels() -> None:
    use = held_labels("l", labels={}).with_traits(twins(labels={}))
    rc = render_component(_app(use), use, private=False)
    a, b = rc.outputs["a"], rc.outputs["b"]
    assert a["metadata"] is not b["metadata"]
    assert a["metadata"]["labels"]["trait.oam.dev/resource"] == "a"
    assert b["metadata"]["labels"]["trait.oam.dev/resource"] == "b"


def test_a_patch_reaches_no_shared_node() -> None:
    use = sharing("web", labels={}).with_traits(scale_it(labels={}))
    rc = render_component(_app(use), use, private=False)
    assert rc.workload["spec"]["replicas"] == 3 and CONSTANT_SPEC["replicas"] == 1
    patched = render_component(_app(use), use, private=False, workload_patch={"spec": {"replicas": 5}})
    assert patched.workload["spec"]["replicas"] == 5 and CONSTANT_SPEC["replicas"] == 1


def test_the_seed_and_stdlib_apps_render_the_same_objects(monkeypatch: Any) -> None:
    monkeypatch.setenv("PYVELA_BENCH_N", "20")
    for app_file in ("benchmarks/apps/seed_1000.py", "benchmarks/apps/stdlib_1000.py"):
        loaded = load_app(app_file, defs=None)
        for use in loaded.app.components:
            private = render_component(loaded.app, use, revision=loaded.revision)
            shared = render_component(loaded.app, use, revision=loaded.revision, private=False)
            assert [o.object for o in shared.objects] == [o.object for o in private.objects]
