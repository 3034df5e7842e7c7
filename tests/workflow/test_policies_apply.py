"""The policies that decide how an object is written, on the sandbox through the runner:
apply-once (fields or whole objects left to drift), resource-update (replace, recreate
when given fields change), take-over, read-only and shared-resource, with KubeVela's
selectors (component names and types, OAM types, trait types, kinds, names)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._core.objects import LABEL_APP, ObjectRef
from pyvela._workflow.events import Recorder
from pyvela.errors import ParameterError
from tests.runner_helpers import ops_for, sandbox

WriteApp = Callable[..., Path]
HEADER = """
from pyvela import (Application, ApplyOnceRule, ApplyOnceStrategy, PolicyRule, ResourceUpdateRule,
                    ResourceUpdateStrategy, RuleSelector, apply_once, read_only, resource_update,
                    shared_resource, take_over)
from pyvela.stdlib import expose, k8s_objects, webservice
from tests.sample_defs import make_configmap

def cm(name, **data):
    return k8s_objects(name, objects=({"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": name}, "data": data},))

def rule(strategy, **selector):
    return ApplyOnceRule(selector=RuleSelector(**selector), strategy=strategy)
"""


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sb = sandbox(tmp_path / "sb")
    yield sb
    sb.close()


def _cm(name: str) -> ObjectRef:
    return ObjectRef("v1", "ConfigMap", "default", name)


def _deploy(write_app: WriteApp, box: Sandbox, body: str, *, name: str = "app.py", **kw: Any) -> Any:
    path = write_app(HEADER + body, name=name)
    result = ops_for(path, box, **kw).deploy()
    assert result.ok, result.to_dict()
    return result


def _drift(box: Sandbox, name: str, **data: str) -> None:
    live = box.get(_cm(name))
    assert live is not None
    live["data"].update(data)
    box.replace(live)


def _data(box: Sandbox, name: str) -> dict[str, str]:
    live = box.get(_cm(name))
    assert live is not None
    return dict(live["data"])


def test_apply_once_paths_keep_the_live_values_of_selected_objects(write_app: WriteApp, box: Sandbox) -> None:
    policy = """
policy = apply_once("once", enable=True, rules=(
    rule(ApplyOnceStrategy(path=("data.size",)), component_names=("sized",)),
    rule(ApplyOnceStrategy(path=("*",)), resource_names=("frozen",)),
))
"""
    app = (
        policy + 'app = Application("ao", components=[cm("sized", size="1", v="{v}"), cm("frozen", v="{v}"), '
        'cm("plain", size="1", v="{v}")], policies=[policy])\n'
    )
    _deploy(write_app, box, app.format(v="1"))
    for name in ("sized", "frozen", "plain"):
        _drift(box, name, size="5")
    events = Recorder()
    _deploy(write_app, box, app.format(v="2"), events=events)
    assert _data(box, "sized") == {"size": "5", "v": "2"}  # the listed path drifts, the rest follows the app
    assert _data(box, "frozen") == {"v": "1", "size": "5"}  # "*": never written again
    assert _data(box, "plain") == {"size": "1", "v": "2"}  # not selected: as the app says
    assert any("frozen" in e.message and "apply-once" in e.message for e in events.of("applied"))


def test_apply_once_keeps_a_field_removed_live_removed(write_app: WriteApp, box: Sandbox) -> None:
    app = (
        'policy = apply_once("once", enable=True, rules=(rule(ApplyOnceStrategy('
        'path=("data.size", "data[a.b]")), resource_types=("ConfigMap",)),))\n'
        'app = Application("ao", components=[cm("c", size="1", v="{v}", **{"a.b": "1"})],'
        " policies=[policy])\n"
    )
    _deploy(write_app, box, app.replace("{v}", "1"))
    live = box.get(_cm("c"))
    assert live is not None
    del live["data"]["size"]
    live["data"]["a.b"] = "2"
    box.replace(live)
    _deploy(write_app, box, app.replace("{v}", "2"))
    assert _data(box, "c") == {"v": "2", "a.b": "2"}


def test_apply_once_is_off_unless_enabled_and_on_state_keep_alone_changes_nothing(
    write_app: WriteApp, box: Sandbox
) -> None:
    for enable, affect in (("False", "onUpdate"), ("True", "onStateKeep")):
        app = (
            f'policy = apply_once("once", enable={enable}, '
            'rules=(rule(ApplyOnceStrategy(path=("data.size",), '
            f'affect="{affect}"), resource_types=("ConfigMap",)),))\n'
            'app = Application("ao", components=[cm("c", size="1", v="{v}")], policies=[policy])\n'
        )
        _deploy(write_app, box, app.replace("{v}", "1"))
        _drift(box, "c", size="5")
        _deploy(write_app, box, app.replace("{v}", "2"))
        assert _data(box, "c") == {"size": "1", "v": "2"}
        ops_for(write_app(HEADER + app, name="app.py"), box).delete()


def test_apply_once_without_rules_leaves_unchanged_objects_alone(write_app: WriteApp, box: Sandbox) -> None:
    app = (
        'app = Application("ao", components=[cm("same", v="1"), cm("edited", v="{v}")],'
        ' policies=[apply_once("once", enable=True)])\n'
    )
    _deploy(write_app, box, app.replace("{v}", "1"))
    _drift(box, "same", v="drifted")
    _drift(box, "edited", extra="drifted")
    _deploy(write_app, box, app.replace("{v}", "2"))
    assert _data(box, "same") == {"v": "drifted"}  # rendered as before: left as it is
    assert _data(box, "edited") == {"v": "2"}  # the app changed it: written as the app says


def test_apply_once_selects_by_oam_and_trait_types(write_app: WriteApp, box: Sandbox) -> None:
    app = """
policy = apply_once("once", enable=True, rules=(
    rule(ApplyOnceStrategy(path=("spec.replicas",)),
         oam_types=("WORKLOAD",), component_types=("webservice",)),
    rule(ApplyOnceStrategy(path=("*",)), trait_types=("expose",)),
))
app = Application("ao", components=[webservice("web", image="nginx:{v}").with_traits(expose(port=(80,)))],
                  policies=[policy])
"""
    _deploy(write_app, box, app.replace("{v}", "1"))
    deployment = ObjectRef("apps/v1", "Deployment", "default", "web")
    service = ObjectRef("v1", "Service", "default", "web")
    live = box.get(deployment)
    assert live is not None
    live["spec"]["replicas"] = 3  # an autoscaler's doing
    box.replace(live)
    svc = box.get(service)
    assert svc is not None
    svc["metadata"].setdefault("labels", {})["team"] = "ops"
    box.replace(svc)
    _deploy(write_app, box, app.replace("{v}", "2"))
    after = box.get(deployment)
    assert after is not None and after["spec"]["replicas"] == 3
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"
    kept = box.get(service)
    assert kept is not None and kept["metadata"]["labels"]["team"] == "ops"


def test_resource_update_recreates_when_a_recreate_field_changes(write_app: WriteApp, box: Sandbox) -> None:
    secret = (
        'k8s_objects("s", objects=({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},'
        ' "immutable": True, "data": {"key": "{v}"}},))'
    )
    plain = f'app = Application("ru", components=[{secret}])\n'
    _deploy(write_app, box, plain.replace("{v}", "dgo="))
    path = write_app(HEADER + plain.replace("{v}", "eHg="), name="app.py")
    result = ops_for(path, box).deploy()
    assert result.phase == "failed" and "immutable" in str(result.to_dict())  # without the policy
    ref = ObjectRef("v1", "Secret", "default", "s")
    before = box.get(ref)
    assert before is not None
    recreate = (
        f'app = Application("ru", components=[{secret}], '
        'policies=[resource_update("ru", rules=(ResourceUpdateRule('
        'selector=RuleSelector(resource_types=("Secret",)), strategy=ResourceUpdateStrategy('
        'recreate_fields=("data.key",))),))])\n'
    )
    events = Recorder()
    _deploy(write_app, box, recreate.replace("{v}", "eHg="), events=events)
    after = box.get(ref)
    assert after is not None and after["data"] == {"key": "eHg="}
    assert after["metadata"]["uid"] != before["metadata"]["uid"]
    assert any("recreated (data.key changed)" in e.message for e in events.of("applied"))


def test_resource_update_replace_writes_the_whole_object(write_app: WriteApp, box: Sandbox) -> None:
    app = (
        'app = Application("ru", components=[cm("r", v="{v}"), cm("p", v="{v}")], '
        'policies=[resource_update("ru", '
        'rules=(ResourceUpdateRule(selector=RuleSelector(resource_names=("r",)), '
        'strategy=ResourceUpdateStrategy(op="replace")),))])\n'
    )
    _deploy(write_app, box, app.replace("{v}", "1"))
    events = Recorder()
    _deploy(write_app, box, app.replace("{v}", "2"), events=events)
    changes = {
        e.data["object"]["name"]: e.data["change"] for e in events.of("applied") if e.data.get("object")
    }
    assert changes["r"] == "replaced" and changes["p"] == "configured"
    assert _data(box, "r") == {"v": "2"} and _data(box, "p") == {"v": "2"}


def test_update_policies_are_checked_at_load(write_app: WriteApp, box: Sandbox) -> None:
    cases = [
        (
            'apply_once("x", enable=True, rules=(rule(ApplyOnceStrategy(path=("spec..replicas",)), '
            'resource_types=("ConfigMap",)),))',
            "spec..replicas",
        ),
        (
            'apply_once("x", enable=True, '
            'rules=(rule(ApplyOnceStrategy(path=("data.x",), affect="onCreate"), '
            'resource_types=("ConfigMap",)),))',
            "onCreate",
        ),
        (
            'resource_update("x", '
            'rules=(ResourceUpdateRule(selector=RuleSelector(resource_types=("ConfigMap",)), '
            'strategy=ResourceUpdateStrategy(op="merge")),))',
            "merge",
        ),
        (
            'resource_update("x", '
            'rules=(ResourceUpdateRule(selector=RuleSelector(resource_types=("ConfigMap",)), '
            'strategy=ResourceUpdateStrategy(recreate_fields=("data[",))),))',
            "never closed",
        ),
    ]
    for policy, word in cases:
        path = write_app(
            HEADER + f'app = Application("x", components=[cm("a")], policies=[{policy}])\n', name="bad.py"
        )
        with pytest.raises(ParameterError) as info:
            ops_for(path, box)
        assert word in str(info.value), str(info.value)
        assert info.value.where is not None and info.value.where.file.endswith("bad.py")


def test_take_over_adopts_only_objects_of_no_app(write_app: WriteApp, box: Sandbox) -> None:
    box.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "loose", "namespace": "default"}}
    )
    plain = 'app = Application("one", components=[cm("loose", v="1")])\n'
    result = ops_for(write_app(HEADER + plain, name="one.py"), box).deploy()
    assert "OwnershipError" in str(result.to_dict())
    adopt = (
        'app = Application("one", components=[cm("loose", v="1")], policies=[take_over("t", rules=('
        'PolicyRule(selector=RuleSelector(component_names=("loose",))),))])\n'
    )
    _deploy(write_app, box, adopt, name="one.py")
    live = box.get(_cm("loose"))
    assert live is not None and live["metadata"]["labels"][LABEL_APP] == "one"
    # An object KubeVela labelled for an app of the same name belongs to no other app: adopted.
    box.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "velas", "namespace": "default", "labels": {LABEL_APP: "one"}},
        }
    )
    vela = adopt.replace('cm("loose", v="1")', 'cm("loose", v="1"), cm("velas")').replace(
        'component_names=("loose",)', 'component_names=("loose", "velas")'
    )
    _deploy(write_app, box, vela, name="one.py")
    # Another app's object is never taken over, take-over or not.
    thief = adopt.replace('"one"', '"two"')
    result = ops_for(write_app(HEADER + thief, name="two.py"), box).deploy()
    assert "owned by app 'one'" in str(result.to_dict())


def test_read_only_objects_are_read_never_written_and_must_exist(write_app: WriteApp, box: Sandbox) -> None:
    box.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "common", "namespace": "default"},
            "data": {"owner": "someone"},
        }
    )
    reader = (
        'app = Application("reader", components=[cm("common", owner="me"), cm("absent")], '
        'policies=[read_only("ro", '
        'rules=(PolicyRule(selector=RuleSelector(resource_names=("common", "absent"))),))])\n'
    )
    before = box.get(_cm("common"))
    result = ops_for(write_app(HEADER + reader, name="reader.py"), box).deploy()
    assert box.get(_cm("common")) == before
    assert result.phase == "failed" and "read-only for this app" in str(result.to_dict())


def test_shared_resources_are_written_by_the_first_app_and_deleted_by_the_last(
    write_app: WriteApp, box: Sandbox
) -> None:
    body = (
        'app = Application("{app}", components=[cm("common", by="{app}")], policies=[shared_resource("s", '
        'rules=(PolicyRule(selector=RuleSelector(resource_types=("ConfigMap",))),))])\n'
    )
    one = write_app(HEADER + body.replace("{app}", "one"), name="one.py")
    two = write_app(HEADER + body.replace("{app}", "two"), name="two.py")
    assert ops_for(one, box).deploy().ok and ops_for(two, box).deploy().ok
    live = box.get(_cm("common"))
    assert live is not None
    assert live["metadata"]["annotations"]["app.oam.dev/shared-by"] == "default/one,default/two"
    assert live["metadata"]["labels"][LABEL_APP] == "one" and live["data"] == {
        "by": "one"
    }  # only the first writes
    ops_for(one, box).restart()  # the owner applies again: the share survives
    live = box.get(_cm("common"))
    assert (
        live is not None
        and live["metadata"]["annotations"]["app.oam.dev/shared-by"] == "default/one,default/two"
    )
    ops_for(one, box).delete()
    live = box.get(_cm("common"))
    assert live is not None and live["metadata"]["annotations"]["app.oam.dev/shared-by"] == "default/two"
    assert live["metadata"]["labels"][LABEL_APP] == "two"
    ops_for(two, box).delete()
    assert box.get(_cm("common")) is None


def test_a_shared_namespace_is_handed_over_when_its_first_app_goes(write_app: WriteApp, box: Sandbox) -> None:
    body = (
        'ns = k8s_objects("ns-{app}", objects=({"apiVersion": "v1", "kind": "Namespace",'
        ' "metadata": {"name": "team"}},))\n'
        'app = Application("{app}", components=[ns], policies=[shared_resource("s", '
        'rules=(PolicyRule(selector=RuleSelector(resource_types=("Namespace",))),))])\n'
    )
    one = write_app(HEADER + body.replace("{app}", "one"), name="one.py")
    two = write_app(HEADER + body.replace("{app}", "two"), name="two.py")
    assert ops_for(one, box).deploy().ok and ops_for(two, box).deploy().ok
    ops_for(one, box).delete()
    team = box.get(ObjectRef("v1", "Namespace", "", "team"))
    assert team is not None and team["metadata"]["annotations"]["app.oam.dev/shared-by"] == "default/two"
    assert team["metadata"]["labels"][LABEL_APP] == "two"
    ops_for(two, box).delete()
    assert box.get(ObjectRef("v1", "Namespace", "", "team")) is not None  # a delete leaves namespaces


def test_an_object_of_an_app_that_does_not_share_it_is_refused(write_app: WriteApp, box: Sandbox) -> None:
    owner = 'app = Application("one", components=[cm("common")])\n'
    assert ops_for(write_app(HEADER + owner, name="one.py"), box).deploy().ok
    sharer = (
        'app = Application("two", components=[cm("common")], policies=[shared_resource("s", '
        'rules=(PolicyRule(selector=RuleSelector(resource_names=("common",))),))])\n'
    )
    result = ops_for(write_app(HEADER + sharer, name="two.py"), box).deploy()
    assert result.phase == "failed" and "does not share it" in str(result.to_dict())


def test_the_render_hash_of_a_stamped_object_is_the_hash_of_the_object_as_rendered() -> None:
    from pyvela._workflow.policies import ANNOTATION_RENDER_HASH, render_hash

    rendered = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
    digest = render_hash(rendered)
    stamped = {**rendered, "metadata": {"name": "c", "annotations": {ANNOTATION_RENDER_HASH: digest}}}
    assert render_hash(stamped) == digest
    # an annotation the app sets is part of what it rendered
    annotations = {"team": "a", ANNOTATION_RENDER_HASH: digest}
    annotated = {**rendered, "metadata": {"name": "c", "annotations": annotations}}
    assert render_hash(annotated) != digest
    assert "annotations" not in rendered["metadata"]  # the caller's object is untouched
