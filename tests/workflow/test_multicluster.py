"""Multi-cluster delivery on three named sandboxes around the control sandbox: topology,
override, replication, per-cluster prune and delete, and a cluster that cannot be reached
failing only its part (then a re-run finishing only that part)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._core.objects import ObjectRef
from pyvela._workflow.events import Recorder
from pyvela.errors import ClusterError
from tests.multicluster_world import MC_DEFS, World
from tests.runner_helpers import ops_for

WriteApp = Callable[..., Path]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


HEAD = """
from pyvela import Application, ComponentPatch, TraitPatch, override, replication, topology
from pyvela.stdlib import deploy, scaler, webservice
"""

TWO_REGIONS = (
    HEAD
    + """
app = Application(
    "shop",
    namespace="shop",
    components=[webservice("web", image="nginx:1").with_traits(scaler(replicas=1))],
    policies=[
        topology("prod", cluster_label_selector={"env": "prod"}),
        topology("beijing", clusters=("sandbox:bj",)),
        override(
            "bigger",
            components=(
                ComponentPatch(
                    name="web",
                    properties={"image": "nginx:2"},
                    traits=(TraitPatch(type="scaler", properties={"replicas": 3}),),
                ),
            ),
        ),
    ],
    workflow=[deploy("everywhere", policies=("prod",)), deploy("north", policies=("beijing", "bigger"))],
)
"""
)


def _image(obj: dict[str, Any] | None) -> str:
    assert obj is not None
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


def test_topology_and_override_deploy_per_cluster_and_the_record_stays_on_the_control(
    write_app: WriteApp, world: World
) -> None:
    path = write_app(TWO_REGIONS, "shop.py")
    events = Recorder()
    result = ops_for(path, world.fleet(), events=events).deploy()
    assert result.ok, result.steps
    sh, bj = world.deployment("sandbox:sh", "web"), world.deployment("sandbox:bj", "web")
    assert _image(sh) == "nginx:1" and sh is not None and sh["spec"]["replicas"] == 1
    assert _image(bj) == "nginx:2" and bj is not None and bj["spec"]["replicas"] == 3  # overridden there only
    assert world.deployment("sandbox:gz", "web") is None  # env=test: not selected
    assert world.deployment("local", "web") is None  # nothing on the control cluster...
    record = world.local.get(ObjectRef("v1", "Secret", "shop", "pyvela-app.shop"))
    assert record is not None  # ...but the app's record
    assert world.boxes["sandbox:bj"].get(ObjectRef("v1", "Secret", "shop", "pyvela-app.shop")) is None
    # Outputs per placement; events name the cluster.
    outputs = result.steps["north"]["outputs"]["placements"]
    assert set(outputs) == {"sandbox:bj"} and outputs["sandbox:bj"]["web"]["name"] == "web"
    assert set(result.steps["everywhere"]["outputs"]["placements"]) == {"sandbox:bj", "sandbox:sh"}
    assert any(e.message.startswith("[sandbox:sh] ") and e.kind == "applied" for e in events.events)
    # The inventory records each object's cluster.
    status = ops_for(path, world.fleet()).status()
    clusters = {o.get("cluster") for o in status["objects"]}
    assert {"sandbox:bj", "sandbox:sh"} <= clusters


def test_a_cluster_dropped_from_the_topology_is_pruned_and_delete_reaches_every_cluster(
    write_app: WriteApp, world: World
) -> None:
    path = write_app(TWO_REGIONS, "shop.py")
    assert ops_for(path, world.fleet()).deploy().ok
    # Shanghai leaves the topology: its objects go, Beijing's stay.
    path.write_text(
        path.read_text().replace('cluster_label_selector={"env": "prod"}', 'clusters=("sandbox:bj",)')
    )
    second = ops_for(path, world.fleet()).deploy()
    assert second.ok, second.steps
    assert world.deployment("sandbox:sh", "web") is None
    assert world.deployment("sandbox:bj", "web") is not None
    assert any("cluster sandbox:sh" in p for p in second.pruned), second.pruned
    deleted = ops_for(path, world.fleet()).delete()
    assert deleted.phase == "deleted"
    assert world.deployment("sandbox:bj", "web") is None
    assert world.local.get(ObjectRef("v1", "Secret", "shop", "pyvela-app.shop")) is None


def test_garbage_collect_keeps_what_a_dropped_cluster_had(write_app: WriteApp, world: World) -> None:
    source = TWO_REGIONS.replace(
        "from pyvela.stdlib import", "from pyvela import garbage_collect\nfrom pyvela.stdlib import"
    ).replace("    policies=[", "    policies=[\n        garbage_collect('gc', keep_legacy_resource=True),")
    path = write_app(source, "shop.py")
    assert ops_for(path, world.fleet()).deploy().ok
    path.write_text(
        path.read_text().replace('cluster_label_selector={"env": "prod"}', 'clusters=("sandbox:bj",)')
    )
    assert ops_for(path, world.fleet()).deploy().ok
    assert world.deployment("sandbox:sh", "web") is not None  # kept by keep_legacy_resource
    assert ops_for(path, world.fleet()).delete().phase == "deleted"
    assert world.deployment("sandbox:sh", "web") is None  # a delete still finds it


def test_replication_by_keys_gives_each_copy_its_key(write_app: WriteApp, world: World) -> None:
    path = write_app(
        """
        from pyvela import Application, replication, topology
        from pyvela.stdlib import deploy
        from tests.multicluster_defs import regional

        app = Application(
            "shop",
            namespace="shop",
            components=[regional("api", image="api:1")],
            policies=[
                topology("two", clusters=("sandbox:bj", "sandbox:gz")),
                replication("zones", keys=("a", "b"), selector=("api",)),
            ],
            workflow=[deploy("ship", policies=("two", "zones"))],
        )
        """,
        "shop.py",
    )
    result = ops_for(path, world.fleet(), defs=MC_DEFS).deploy()
    assert result.ok, result.steps
    for cluster in ("sandbox:bj", "sandbox:gz"):
        for key in ("a", "b"):
            live = world.deployment(cluster, f"api-{key}")
            assert live is not None
            assert live["spec"]["template"]["spec"]["containers"][0]["env"] == [
                {"name": "REGION", "value": key}
            ]
    assert set(result.steps["ship"]["outputs"]["placements"]["sandbox:gz"]) == {"api@a", "api@b"}


def test_replicas_rendering_the_same_object_are_refused(write_app: WriteApp, world: World) -> None:
    path = write_app(
        HEAD
        + """
app = Application(
    "shop", namespace="shop", components=[webservice("web", image="nginx:1")],
    policies=[
        topology("one", clusters=("sandbox:bj",)),
        replication("r", keys=("a", "b"), selector=("web",)),
    ],
    workflow=[deploy("ship", policies=("one", "r"))],
)
""",
        "shop.py",
    )
    result = ops_for(path, world.fleet()).deploy()
    assert result.phase == "failed"
    message = result.steps["ship"]["message"]
    assert "web@a and web@b both render Deployment shop/web" in message


def test_an_unreachable_cluster_fails_only_its_part_and_a_rerun_finishes_it(
    write_app: WriteApp, world: World
) -> None:
    path = write_app(TWO_REGIONS.replace('deploy("north", policies=("beijing", "bigger"))', ""), "shop.py")
    world.unreachable("sandbox:sh")
    first = ops_for(path, world.fleet()).deploy()
    assert first.phase == "failed"
    message = first.steps["everywhere"]["message"]
    assert "cluster sandbox:sh:" in message and "1 of 2 placement(s)" in message
    assert world.deployment("sandbox:bj", "web") is not None  # the other cluster's work is kept
    world.broken.clear()
    events = Recorder()
    second = ops_for(path, world.fleet(), events=events).deploy()
    assert second.ok, second.steps
    assert world.deployment("sandbox:sh", "web") is not None
    applied = [e for e in events.of("applied") if e.data.get("cluster") == "sandbox:bj"]
    assert applied == []  # Beijing was healthy already: not applied again
    assert any("earlier attempt" in e.message and "[sandbox:bj]" in e.message for e in events.events)


def test_an_app_without_a_workflow_deploys_every_topology(write_app: WriteApp, world: World) -> None:
    path = write_app(
        HEAD
        + """
app = Application(
    "shop", namespace="shop", components=[webservice("web", image="nginx:1")],
    policies=[
        topology("north", clusters=("sandbox:bj",)),
        topology("south", clusters=("sandbox:gz",), namespace="edge"),
    ],
)
""",
        "shop.py",
    )
    result = ops_for(path, world.fleet()).deploy()
    assert result.ok, result.steps
    assert world.deployment("sandbox:bj", "web") is not None
    assert world.deployment("sandbox:gz", "web", namespace="edge") is not None
    assert world.deployment("local", "web") is None


def test_rollback_reapplies_each_object_on_its_cluster_and_status_groups_by_cluster(
    write_app: WriteApp, world: World
) -> None:
    path = write_app(TWO_REGIONS, "shop.py")
    assert ops_for(path, world.fleet()).deploy().ok
    path.write_text(path.read_text().replace('"nginx:1"', '"nginx:3"'))
    assert ops_for(path, world.fleet()).deploy().ok
    assert _image(world.deployment("sandbox:sh", "web")) == "nginx:3"
    back = ops_for(path, world.fleet()).rollback()
    assert back.ok, back.message
    assert _image(world.deployment("sandbox:sh", "web")) == "nginx:1"
    assert _image(world.deployment("sandbox:bj", "web")) == "nginx:2"  # its override, as revision 1 had it
    status = ops_for(path, world.fleet()).status()
    per = status["clusters"]
    assert set(per) == {"sandbox:bj", "sandbox:sh"}
    assert all(c["reachable"] and c["ready"] == c["objects"] > 0 for c in per.values()), per
    # A cluster that does not answer: its objects are reported so, the others' health still read.
    world.unreachable("sandbox:sh")
    status = ops_for(path, world.fleet()).status()
    assert not status["clusters"]["sandbox:sh"]["reachable"] and status["clusters"]["sandbox:bj"]["reachable"]
    row = next(o for o in status["objects"] if o.get("cluster") == "sandbox:sh")
    assert not row["ready"] and "does not answer" in row["message"]


def test_a_prune_or_delete_that_cannot_reach_a_cluster_retries_it_later(
    write_app: WriteApp, world: World
) -> None:
    path = write_app(TWO_REGIONS, "shop.py")
    assert ops_for(path, world.fleet()).deploy().ok
    # Shanghai leaves the topology while it does not answer: the prune leaves its objects noted.
    path.write_text(
        path.read_text().replace('cluster_label_selector={"env": "prod"}', 'clusters=("sandbox:bj",)')
    )
    world.unreachable("sandbox:sh")
    events = Recorder()
    second = ops_for(path, world.fleet(), events=events).deploy()
    assert second.ok, second.steps
    assert any("cluster sandbox:sh:" in e.message and "left for now" in e.message for e in events.events)
    world.broken.clear()
    assert world.deployment("sandbox:sh", "web") is not None
    # The next prune (a later deploy) retries it.
    path.write_text(path.read_text().replace('"nginx:1"', '"nginx:5"'))
    third = ops_for(path, world.fleet()).deploy()
    assert third.ok and world.deployment("sandbox:sh", "web") is None, third.pruned
    # A delete that cannot reach a cluster keeps the record, and a second delete finishes.
    path.write_text(
        path.read_text().replace('clusters=("sandbox:bj",)', 'cluster_label_selector={"env": "prod"}')
    )
    assert ops_for(path, world.fleet()).deploy().ok
    world.unreachable("sandbox:sh")
    with pytest.raises(ClusterError, match=r"could not reach cluster.*sandbox:sh"):
        ops_for(path, world.fleet()).delete()
    assert world.deployment("sandbox:bj", "web") is None  # what it could reach is gone
    assert world.local.get(ObjectRef("v1", "Secret", "shop", "pyvela-app.shop")) is not None
    world.broken.clear()
    assert ops_for(path, world.fleet()).delete().phase == "deleted"
    assert world.deployment("sandbox:sh", "web") is None


def test_a_garbage_collect_rule_keeps_a_dropped_cluster_object_until_the_app_is_deleted(
    write_app: WriteApp, world: World
) -> None:
    source = TWO_REGIONS.replace(
        "from pyvela.stdlib import",
        "from pyvela import GarbageCollectRule, RuleSelector, garbage_collect\nfrom pyvela.stdlib import",
    ).replace(
        "    policies=[",
        "    policies=[\n        garbage_collect('gc', rules=(GarbageCollectRule("
        "selector=RuleSelector(resource_types=('Deployment',)), strategy='onAppDelete'),)),",
    )
    path = write_app(source, "shop.py")
    assert ops_for(path, world.fleet()).deploy().ok
    path.write_text(
        path.read_text().replace('cluster_label_selector={"env": "prod"}', 'clusters=("sandbox:bj",)')
    )
    events = Recorder()
    assert ops_for(path, world.fleet(), events=events).deploy().ok
    assert world.deployment("sandbox:sh", "web") is not None
    assert any("kept Deployment shop/web (cluster sandbox:sh)" in e.message for e in events.events)
    assert ops_for(path, world.fleet()).delete().phase == "deleted"
    assert world.deployment("sandbox:sh", "web") is None


def test_components_deploy_after_their_dependencies_on_each_cluster(  # (.after(): apps without a workflow)
    write_app: WriteApp, world: World
) -> None:
    path = write_app(
        HEAD
        + """
db = webservice("db", image="postgres:16")
app = Application(
    "shop", namespace="shop",
    components=[webservice("web", image="nginx:1").after(db), db],
    policies=[topology("prod", cluster_label_selector={"env": "prod"})],  # no workflow: deploy-prod
)
""",
        "shop.py",
    )
    events = Recorder()
    result = ops_for(path, world.fleet(), events=events).deploy()
    assert result.ok, result.steps
    for cluster in ("sandbox:bj", "sandbox:sh"):
        mine = [e.message for e in events.events if e.data.get("cluster") == cluster]
        ready_db = next(i for i, m in enumerate(mine) if m.endswith("Deployment shop/db is ready"))
        web_created = next(i for i, m in enumerate(mine) if m.endswith("Deployment shop/web created"))
        assert ready_db < web_created, mine


def test_object_steps_write_to_a_named_cluster_and_to_a_topology(write_app: WriteApp, world: World) -> None:
    path = write_app(
        HEAD
        + """
from pyvela.stdlib import apply_object, export_data, read_object

note = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "note"}, "data": {"a": "1"}}
app = Application(
    "shop", namespace="shop", components=[],
    policies=[topology("prod", cluster_label_selector={"env": "prod"})],
    workflow=[
        apply_object("put", value=note, cluster="sandbox:gz"),
        read_object(
            "get", api_version="v1", kind="ConfigMap", name="note", namespace="shop", cluster="sandbox:gz"
        ),
        export_data("share", data={"url": "http://db"}, topology="prod"),
    ],
)
""",
        "shop.py",
    )
    result = ops_for(path, world.fleet()).deploy()
    assert result.ok, result.steps
    assert result.steps["get"]["outputs"]["value"]["data"] == {"a": "1"}
    gz = world.boxes["sandbox:gz"].get(ObjectRef("v1", "ConfigMap", "shop", "note"))
    assert gz is not None and world.local.get(ObjectRef("v1", "ConfigMap", "shop", "note")) is None
    for cluster in ("sandbox:bj", "sandbox:sh"):
        shared = world.boxes[cluster].get(ObjectRef("v1", "ConfigMap", "shop", "shop"))
        assert shared is not None and shared["data"] == {"url": "http://db"}
    # Objects of steps are the app's on their clusters: a delete removes them there.
    assert ops_for(path, world.fleet()).delete().phase == "deleted"
    assert world.boxes["sandbox:gz"].get(ObjectRef("v1", "ConfigMap", "shop", "note")) is None
    assert world.boxes["sandbox:bj"].get(ObjectRef("v1", "ConfigMap", "shop", "shop")) is None
