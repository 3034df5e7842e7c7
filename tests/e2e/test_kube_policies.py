"""The garbage-collect, apply-once and resource-update policies on the real control plane
(its garbage collector and field managers), each test in a namespace of its own."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support

from pyvela._backends.kube.backend import KubeBackend
from pyvela._core.objects import LABEL_APP, ObjectRef
from pyvela._workflow.events import Recorder
from tests.runner_helpers import ops_for

kube, namespace = support.kube, support.namespace  # fixtures

HEADER = """
from pyvela import (Application, ApplyOnceRule, ApplyOnceStrategy, GarbageCollectRule, ResourceUpdateRule,
                    ResourceUpdateStrategy, RuleSelector, apply_once, garbage_collect, resource_update)
from pyvela.stdlib import k8s_objects, webservice

def cm(name, **data):
    return k8s_objects(name, objects=({"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": name}, "data": data or {"k": "v"}},))
"""


def _app(tmp_path: Path, body: str, name: str = "app.py") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def _deploy(path: Path, kube: KubeBackend, **kw: Any) -> Any:
    result = ops_for(path, kube, **kw).deploy()
    assert result.ok, result.to_dict()
    return result


def _edit(kube: KubeBackend, ref: ObjectRef, patch: dict[str, Any]) -> None:
    """Change an object as another tool would (its own field manager, a merge patch)."""
    kind = kube.discovery.kind(ref.api_version, ref.kind)
    code, data = kube.call(
        "PATCH",
        kind.path(ref.namespace, ref.name),
        query=[("fieldManager", "someone-else")],
        body=patch,
        content_type="application/merge-patch+json",
        what=str(ref),
    )
    assert code < 300, data


def test_garbage_collect_rules_on_update_and_delete(
    kube: KubeBackend, namespace: str, tmp_path: Path
) -> None:
    first = f"""
    policy = garbage_collect("gc", rules=(
        GarbageCollectRule(selector=RuleSelector(component_names=("kept",)), strategy="onAppDelete"),
        GarbageCollectRule(selector=RuleSelector(resource_names=("forever",)), strategy="never"),
    ))
    app = Application("gc", namespace="{namespace}",
                      components=[cm("gone"), cm("kept"), cm("forever"), cm("stays")],
                      policies=[policy])
    """
    _deploy(_app(tmp_path, first), kube)
    second = _app(
        tmp_path, f'app = Application("gc", namespace="{namespace}", components=[cm("stays")])\n', "v2.py"
    )
    _deploy(second, kube)

    def cm_(name: str) -> Any:
        return kube.get(ObjectRef("v1", "ConfigMap", namespace, name))

    assert cm_("gone") is None and cm_("kept") is not None and cm_("forever") is not None
    ops_for(second, kube).delete()
    assert cm_("kept") is None and cm_("stays") is None
    forever = cm_("forever")
    assert forever is not None and LABEL_APP not in (forever["metadata"].get("labels") or {})


def test_orphan_propagation_leaves_the_replicaset(kube: KubeBackend, namespace: str, tmp_path: Path) -> None:
    body = f"""
    app = Application("orph", namespace="{namespace}", components=[webservice("web", image="nginx:1")],
        policies=[garbage_collect("gc", rules=(
            GarbageCollectRule(selector=RuleSelector(component_names=("web",)), propagation="orphan"),)
        )])
    """
    path = _app(tmp_path, body)
    _deploy(path, kube)

    def replicasets() -> list[Any]:
        return [
            r
            for r in kube.list("apps/v1", "ReplicaSet", namespace)
            if r["metadata"]["name"].startswith("web-")
        ]

    deadline = time.monotonic() + 60
    while not replicasets() and time.monotonic() < deadline:
        time.sleep(0.5)  # the Deployment controller creates it shortly after the Deployment
    assert replicasets()
    events = Recorder()
    ops_for(path, kube, events=events).delete()
    assert kube.get(ObjectRef("apps/v1", "Deployment", namespace, "web")) is None
    left = replicasets()
    assert left and all(not r["metadata"].get("ownerReferences") for r in left)


def test_apply_once_leaves_drifted_fields(kube: KubeBackend, namespace: str, tmp_path: Path) -> None:
    body = f"""
    policy = apply_once("once", enable=True, rules=(
        ApplyOnceRule(selector=RuleSelector(component_names=("sized",)),
                      strategy=ApplyOnceStrategy(path=("data.size",))),
        ApplyOnceRule(selector=RuleSelector(resource_names=("frozen",)),
                      strategy=ApplyOnceStrategy(path=("*",))),
    ))
    app = Application("once", namespace="{namespace}", components=[cm("sized", size="1", v="{{v}}"),
                      cm("frozen", v="{{v}}")], policies=[policy])
    """
    _deploy(_app(tmp_path, body.replace("{v}", "1")), kube)
    for name in ("sized", "frozen"):
        _edit(kube, ObjectRef("v1", "ConfigMap", namespace, name), {"data": {"size": "5"}})
    _deploy(_app(tmp_path, body.replace("{v}", "2"), "v2.py"), kube)
    sized = kube.get(ObjectRef("v1", "ConfigMap", namespace, "sized"))
    frozen = kube.get(ObjectRef("v1", "ConfigMap", namespace, "frozen"))
    assert sized is not None and sized["data"] == {"size": "5", "v": "2"}
    assert frozen is not None and frozen["data"] == {"size": "5", "v": "1"}


def test_resource_update_replace_drops_what_others_set_and_patch_keeps_it(
    kube: KubeBackend, namespace: str, tmp_path: Path
) -> None:
    body = f"""
    app = Application("upd", namespace="{namespace}", components=[cm("r", v="{{v}}"), cm("p", v="{{v}}")],
        policies=[resource_update("ru", rules=(
            ResourceUpdateRule(selector=RuleSelector(resource_names=("r",)),
                                                                  strategy=ResourceUpdateStrategy(op="replace")),))])
    """
    _deploy(_app(tmp_path, body.replace("{v}", "1")), kube)
    for name in ("r", "p"):
        _edit(kube, ObjectRef("v1", "ConfigMap", namespace, name), {"data": {"theirs": "x"}})
    _deploy(_app(tmp_path, body.replace("{v}", "2"), "v2.py"), kube)
    replaced = kube.get(ObjectRef("v1", "ConfigMap", namespace, "r"))
    patched = kube.get(ObjectRef("v1", "ConfigMap", namespace, "p"))
    assert replaced is not None and replaced["data"] == {"v": "2"}
    assert patched is not None and patched["data"] == {"v": "2", "theirs": "x"}


def test_resource_update_recreates_an_immutable_secret(
    kube: KubeBackend, namespace: str, tmp_path: Path
) -> None:
    body = f"""
    secret = k8s_objects("s", objects=({{"apiVersion": "v1", "kind": "Secret", "metadata": {{"name": "s"}},
                                        "immutable": True, "data": {{"key": "{{v}}"}}}},))
    app = Application("sec", namespace="{namespace}", components=[secret],
        policies=[resource_update("ru", rules=(
            ResourceUpdateRule(selector=RuleSelector(resource_types=("Secret",)),
                                  strategy=ResourceUpdateStrategy(recreate_fields=("data.key",))),))])
    """
    _deploy(_app(tmp_path, body.replace("{v}", "dgo=")), kube)
    ref = ObjectRef("v1", "Secret", namespace, "s")
    before = kube.get(ref)
    _deploy(_app(tmp_path, body.replace("{v}", "eHg="), "v2.py"), kube)
    after = kube.get(ref)
    assert before is not None and after is not None
    assert after["data"] == {"key": "eHg="} and after["metadata"]["uid"] != before["metadata"]["uid"]


def test_shared_take_over_and_read_only_on_the_api_server(
    kube: KubeBackend, namespace: str, tmp_path: Path
) -> None:
    common = ObjectRef("v1", "ConfigMap", namespace, "common")
    shared = """
    from pyvela import PolicyRule, shared_resource
    app = Application("{app}", namespace="{ns}", components=[cm("common", by="{app}")],
        policies=[shared_resource("s",
                                  rules=(PolicyRule(selector=RuleSelector(resource_names=("common",))),))])
    """
    one = _app(tmp_path, shared.format(app="one", ns=namespace), "one.py")
    two = _app(tmp_path, shared.format(app="two", ns=namespace), "two.py")
    _deploy(one, kube)
    _deploy(two, kube)
    live = kube.get(common)
    assert live is not None and live["data"] == {"by": "one"}
    assert live["metadata"]["annotations"]["app.oam.dev/shared-by"] == f"{namespace}/one,{namespace}/two"
    ops_for(one, kube).delete()
    live = kube.get(common)
    assert live is not None and live["metadata"]["labels"][LABEL_APP] == "two"
    ops_for(two, kube).delete()
    assert kube.get(common) is None

    kube.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "loose", "namespace": namespace}}
    )
    adopt = f"""
    from pyvela import PolicyRule, read_only, take_over
    app = Application("three", namespace="{namespace}", components=[cm("loose", v="1"), cm("ro")],
        policies=[take_over("t", rules=(PolicyRule(selector=RuleSelector(resource_names=("loose",))),)),
                  read_only("r", rules=(PolicyRule(selector=RuleSelector(resource_names=("ro",))),))])
    """
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "ro", "namespace": namespace},
            "data": {"theirs": "1"},
        }
    )
    path = _app(tmp_path, adopt, "three.py")
    _deploy(path, kube)
    loose = kube.get(ObjectRef("v1", "ConfigMap", namespace, "loose"))
    assert (
        loose is not None
        and loose["metadata"]["labels"][LABEL_APP] == "three"
        and loose["data"] == {"v": "1"}
    )
    ops_for(path, kube).delete()
    ro = kube.get(ObjectRef("v1", "ConfigMap", namespace, "ro"))
    assert ro is not None and ro["data"] == {"theirs": "1"}  # read, never written nor deleted
