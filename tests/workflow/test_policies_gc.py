"""The garbage-collect policy on the sandbox, through the runner: what a new revision prunes or
keeps (rules, strategies, keep_legacy_resource), how a delete goes (orphan or cascading,
``never``), in which order (``order: dependency``), and pruning after a failure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._core.objects import LABEL_APP, ObjectRef
from pyvela._workflow.events import Recorder
from pyvela.errors import DanglingReferenceError, ParameterError
from tests.runner_helpers import ops_for, sandbox

WriteApp = Callable[..., Path]
HEADER = """
from pyvela import Application, GarbageCollectRule, RuleSelector, garbage_collect
from pyvela.stdlib import k8s_objects, webservice, expose
from tests.sample_defs import explode, make_configmap

def cm(name, **data):
    return k8s_objects(name, objects=({"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": name}, "data": data or {"k": "v"}},))
"""


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sb = sandbox(tmp_path / "sb")
    yield sb
    sb.close()


def _cm(name: str, ns: str = "default") -> ObjectRef:
    return ObjectRef("v1", "ConfigMap", ns, name)


def _deploy(write_app: WriteApp, box: Sandbox, body: str, *, events: Recorder | None = None) -> str:
    path = write_app(HEADER + body, name="gcapp.py")
    result = ops_for(path, box, events=events).deploy()
    assert result.ok, result.to_dict()
    return str(path)


def test_an_update_prunes_by_default_and_rules_keep_on_app_delete_or_never(
    write_app: WriteApp, box: Sandbox
) -> None:
    gc = """
policy = garbage_collect("gc", rules=(
    GarbageCollectRule(selector=RuleSelector(component_names=("kept",)), strategy="onAppDelete"),
    GarbageCollectRule(selector=RuleSelector(resource_names=("forever",)), strategy="never"),
))
"""
    _deploy(
        write_app,
        box,
        gc + 'app = Application("gc", components=[cm("gone"), cm("kept"), cm("forever"), cm("stays")],'
        " policies=[policy])\n",
    )
    events = Recorder()
    # The next revision has none of the three: the rules the objects were applied under decide.
    path = _deploy(write_app, box, 'app = Application("gc", components=[cm("stays")])\n', events=events)
    assert box.get(_cm("gone")) is None
    assert box.get(_cm("kept")) is not None and box.get(_cm("forever")) is not None
    assert [e.data["object"]["name"] for e in events.of("pruned")] == ["gone"]
    kept = [e.message for e in events.of("log") if "kept" in e.message]
    assert any("kept" in m and "onAppDelete" in m for m in kept), kept
    # Deleting the app deletes what onAppDelete kept; `never` stays, no longer labelled as the app's.
    result = ops_for(path, box).delete()
    assert box.get(_cm("kept")) is None and box.get(_cm("stays")) is None
    forever = box.get(_cm("forever"))
    assert forever is not None and LABEL_APP not in (forever["metadata"].get("labels") or {})
    assert sorted(result.pruned) == ["ConfigMap default/kept", "ConfigMap default/stays"]


def test_keep_legacy_resource_keeps_everything_until_the_app_is_deleted(
    write_app: WriteApp, box: Sandbox
) -> None:
    keep = 'policies=[garbage_collect("gc", keep_legacy_resource=True)]'
    _deploy(write_app, box, f'app = Application("gc", components=[cm("one")], {keep})\n')
    _deploy(write_app, box, f'app = Application("gc", components=[cm("two")], {keep})\n')
    path = _deploy(write_app, box, f'app = Application("gc", components=[cm("three")], {keep})\n')
    assert all(box.get(_cm(n)) is not None for n in ("one", "two", "three"))
    ops_for(path, box).delete()
    assert all(box.get(_cm(n)) is None for n in ("one", "two", "three"))


def test_kept_objects_are_deleted_with_the_app_after_their_revisions_left_the_history(
    write_app: WriteApp, box: Sandbox
) -> None:
    keep = 'policies=[garbage_collect("gc", keep_legacy_resource=True, application_revision_limit=1)]'
    for i in range(4):
        path = _deploy(write_app, box, f'app = Application("gc", components=[cm("v{i}")], {keep})\n')
    record = ops_for(path, box).store.load()
    assert record is not None and len(record["revisions"]) == 2  # the current and one earlier
    ops_for(path, box).delete()
    assert all(box.get(_cm(f"v{i}")) is None for i in range(4))


def test_orphan_leaves_a_deployments_pods_and_cascading_deletes_them(
    write_app: WriteApp, box: Sandbox
) -> None:
    body = """
app = Application("gc",
    components=[webservice("keepers", image="nginx:1"), webservice("goners", image="nginx:1")],
    policies=[garbage_collect("gc", rules=(
        GarbageCollectRule(selector=RuleSelector(component_names=("keepers",)), propagation="orphan"),
        GarbageCollectRule(selector=RuleSelector(component_names=("goners",)), propagation="cascading"),
    ))])
"""
    path = _deploy(write_app, box, body)

    def pods(prefix: str) -> list[dict[str, object]]:
        return [p for p in box.list("v1", "Pod", "default") if p["metadata"]["name"].startswith(prefix)]

    assert pods("keepers-") and pods("goners-")
    events = Recorder()
    ops_for(path, box, events=events).delete()
    assert box.get(ObjectRef("apps/v1", "Deployment", "default", "keepers")) is None
    assert box.get(ObjectRef("apps/v1", "Deployment", "default", "goners")) is None
    orphans = pods("keepers-")
    assert orphans and all(not p["metadata"].get("ownerReferences") for p in orphans)
    assert pods("goners-") == []
    assert any("orphaned" in e.message and "keepers" in e.message for e in events.of("deleted"))


def test_order_dependency_deletes_dependants_first(write_app: WriteApp, box: Sandbox) -> None:
    # db <- api <- web (web depends on api, api on db); listed so that the plain order differs.
    body = """
db = cm("db")
api = cm("api").after("db")
web = cm("web").after("api")
app = Application("gc", components=[db, api, web, cm("lone")],
                  policies=[garbage_collect("gc", order="dependency")])
"""
    path = _deploy(write_app, box, body)
    deleted: list[str] = []
    original = box.delete

    def recording(ref: ObjectRef, **kw: object) -> bool:
        gone = original(ref, **kw)  # type: ignore[arg-type]
        if gone:
            deleted.append(ref.name)
        return gone

    box.delete = recording  # type: ignore[method-assign]
    events = Recorder()
    ops_for(path, box, events=events).delete()
    order = [n for n in deleted if n in ("db", "api", "web", "lone")]
    assert order.index("web") < order.index("api") < order.index("db"), order
    assert [e.data["object"]["name"] for e in events.of("deleted")] == order


def test_prune_in_dependency_order_too(write_app: WriteApp, box: Sandbox) -> None:
    gc = 'policies=[garbage_collect("gc", order="dependency")]'
    _deploy(
        write_app,
        box,
        'app = Application("gc", components=[cm("a"), cm("b").after("a"), cm("c").after("b"), cm("x")],'
        f" {gc})\n",
    )
    events = Recorder()
    _deploy(write_app, box, f'app = Application("gc", components=[cm("x")], {gc})\n', events=events)
    assert [e.data["object"]["name"] for e in events.of("pruned")] == ["c", "b", "a"]


def test_continue_on_failure_prunes_after_a_failed_run(write_app: WriteApp, box: Sandbox) -> None:
    first = """
app = Application("gc", components=[],
                  workflow=[make_configmap("one", name="one"), make_configmap("two", name="two")],
                  policies=[garbage_collect("gc"{extra})])
"""
    failing = """
app = Application("gc", components=[], workflow=[make_configmap("one", name="one"), explode("boom")],
                  policies=[garbage_collect("gc"{extra})])
"""
    for extra, pruned in (("", False), (", continue_on_failure=True", True)):
        _deploy(write_app, box, first.format(extra=extra))
        path = write_app(HEADER + failing.format(extra=extra), name="gcapp.py")
        result = ops_for(path, box, retries=0).deploy()
        assert result.phase == "failed"
        assert (box.get(_cm("two")) is None) is pruned
        assert box.get(_cm("one")) is not None  # the failed revision still has it
        ops_for(path, box).delete()


def test_a_delete_leaves_read_only_and_other_apps_objects_alone(write_app: WriteApp, box: Sandbox) -> None:
    box.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "theirs", "namespace": "default"}}
    )
    path = write_app(
        HEADER
        + """
from pyvela import PolicyRule, read_only
app = Application("gc", components=[cm("theirs"), cm("mine")],
                  policies=[read_only("ro",
                                      rules=(PolicyRule(selector=RuleSelector(resource_names=("theirs",))),))])
""",
        name="gcapp.py",
    )
    assert ops_for(path, box).deploy().ok
    ops_for(path, box).delete()
    assert box.get(_cm("theirs")) is not None and box.get(_cm("mine")) is None


def test_rules_are_checked_when_the_app_loads(write_app: WriteApp, box: Sandbox) -> None:
    cases = [
        (
            'GarbageCollectRule(selector=RuleSelector(component_names=("nope",)))',
            DanglingReferenceError,
            "nope",
        ),
        (
            'GarbageCollectRule(selector=RuleSelector(component_types=("webservis",)))',
            ParameterError,
            "webservis",
        ),
        ('GarbageCollectRule(selector=RuleSelector(trait_types=("gatewy",)))', ParameterError, "gatewy"),
        ("GarbageCollectRule(selector=RuleSelector())", ParameterError, "selects nothing"),
        (
            'GarbageCollectRule(selector=RuleSelector(resource_types=("ConfigMap",)), '
            'strategy="onAppUpgrade")',
            ParameterError,
            "onAppUpgrade",
        ),
        ('GarbageCollectRule(selector=RuleSelector(oam_types=("COMPONENT",)))', ParameterError, "COMPONENT"),
    ]
    for rule, error, word in cases:
        path = write_app(
            HEADER
            + 'app = Application("gc", components=[cm("a")], '
            + f'policies=[garbage_collect("gc", rules=({rule},))])\n',
            name="bad.py",
        )
        with pytest.raises(error) as info:
            ops_for(path, box)
        assert word in str(info.value), str(info.value)
        assert info.value.where is not None and info.value.where.file.endswith("bad.py")
        assert info.value.where.line > 1
    two = write_app(
        HEADER
        + 'app = Application("gc", components=[cm("a")], '
        + 'policies=[garbage_collect("x"), garbage_collect("y")])\n',
        name="two.py",
    )
    with pytest.raises(ParameterError, match="two garbage-collect policies"):
        ops_for(two, box)


def test_a_kubevela_yaml_app_gets_the_same_policies(write_app: WriteApp, box: Sandbox) -> None:
    yaml_app = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: yamlgc
spec:
  components:
{components}
  policies:
    - name: gc
      type: garbage-collect
      properties:
        order: dependency
        rules:
          - selector:
              resourceNames: [kept]
            strategy: onAppDelete
            propagation: orphan
"""
    component = """    - name: {name}
      type: k8s-objects
      properties:
        objects:
          - apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {name}
            data: {{k: v}}
"""
    both = component.format(name="kept") + component.format(name="gone") + component.format(name="stays")
    path = write_app(yaml_app.format(components=both), name="gc.yaml")
    assert ops_for(path, box).deploy().ok
    path = write_app(yaml_app.format(components=component.format(name="stays")), name="gc.yaml")
    assert ops_for(path, box).deploy().ok
    assert box.get(_cm("kept")) is not None and box.get(_cm("gone")) is None
    ops_for(path, box).delete()
    assert box.get(_cm("kept")) is None
    typo = write_app(yaml_app.format(components=both).replace("onAppDelete", "onAppDelet"), name="typo.yaml")
    with pytest.raises(ParameterError, match="onAppDelet") as info:
        ops_for(typo, box)
    assert info.value.where is not None and info.value.where.file.endswith("typo.yaml")


@pytest.mark.parametrize("dependency", [False, True])
def test_after_a_failed_revision_only_order_dependency_keeps_dependants_first(
    write_app: WriteApp, box: Sandbox, dependency: bool
) -> None:
    gc = 'garbage_collect("gc", order="dependency")' if dependency else 'garbage_collect("gc")'
    _deploy(write_app, box, f'app = Application("gc", components=[cm("api"), cm("db")], policies=[{gc}])\n')
    # The next revision makes api depend on db, and fails half way through db (a Deployment the
    # API server refuses, after db's ConfigMap): the record's newest entries are db's, not api's.
    broken = (
        'db = k8s_objects("db", objects=({"apiVersion": "v1", "kind": "ConfigMap",'
        ' "metadata": {"name": "db"}, "data": {"k": "v2"}},'
        ' {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "db"},'
        ' "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}))\n'
        f'app = Application("gc", components=[cm("api").after("db"), db], policies=[{gc}])\n'
    )
    path = write_app(HEADER + broken, name="gcapp.py")
    assert ops_for(path, box, retries=0).deploy().phase == "failed"
    deleted: list[str] = []
    original = box.delete

    def recording(ref: ObjectRef, **kw: object) -> bool:
        gone = original(ref, **kw)  # type: ignore[arg-type]
        if gone:
            deleted.append(ref.name)
        return gone

    box.delete = recording  # type: ignore[method-assign]
    ops_for(path, box).delete()
    order = [n for n in deleted if n in ("api", "db")]
    assert order == (["api", "db"] if dependency else ["db", "api"])
