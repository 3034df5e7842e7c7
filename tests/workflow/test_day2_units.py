"""Pure parts of day-2 (issue 14, part A): reading Pods and Events as ``kubectl describe``
does, the owner tree, the sandbox's simulated Events, policy parameters read back from a
record, and the index summary ``ls`` reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._backends.sandbox.simevents import pod_events, simulated_events, workload_events
from pyvela._core.objects import ObjectRef
from pyvela._core.params import params_to_data
from pyvela._core.policies_builtin import (
    GarbageCollectParams,
    GarbageCollectRule,
)
from pyvela._core.selectors import RuleSelector
from pyvela._workflow.named import gc_from_record, structure
from pyvela._workflow.record import Layout, summary_of
from pyvela._workflow.tree import Cluster, describe_app, describe_event, pod_summary

CRASHED: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web-1", "namespace": "ns", "uid": "u-pod"},
    "spec": {"containers": [{"name": "main"}, {"name": "side"}], "nodeName": "n1"},
    "status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [
            {
                "name": "main",
                "ready": False,
                "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                "lastState": {
                    "terminated": {"reason": "Error", "exitCode": 2, "finishedAt": "2026-01-01T00:00:09Z"}
                },
            },
            {"name": "side", "ready": True, "restartCount": 0, "state": {"running": {}}},
        ],
    },
}


def test_a_pod_reads_as_kubectl_describe_shows_it() -> None:
    summary = pod_summary(CRASHED)
    assert summary["ready"] == "1/2" and summary["restarts"] == 4 and summary["healthy"] is False
    main, side = summary["containers"]
    assert (
        main["state"] == "waiting"
        and main["reason"] == "CrashLoopBackOff"
        and main["message"] == "back-off 40s"
    )
    assert main["lastTermination"] == {"reason": "Error", "exitCode": 2, "finishedAt": "2026-01-01T00:00:09Z"}
    assert side == {"name": "side", "ready": True, "restarts": 0, "state": "running"}
    assert summary["problems"] == [
        "pod web-1: CrashLoopBackOff: container main: restarted 4 times; back-off 40s"
    ]


def test_events_of_both_apis_read_alike_newest_last() -> None:
    core = {
        "type": "Warning",
        "reason": "BackOff",
        "message": "m",
        "source": {"component": "kubelet", "host": "n1"},
        "lastTimestamp": "2026-01-01T00:00:05Z",
        "count": 3,
    }
    series = {
        "reason": "Scheduled",
        "reportingComponent": "default-scheduler",
        "eventTime": "2026-01-01T00:00:01.5Z",
    }
    assert describe_event(core) == {
        "type": "Warning",
        "reason": "BackOff",
        "last": "2026-01-01T00:00:05Z",
        "from": "kubelet, n1",
        "message": "m",
        "count": 3,
    }
    assert (
        describe_event(series)["from"] == "default-scheduler" and describe_event(series)["type"] == "Normal"
    )


class Listing:
    def __init__(self, objects: dict[str, list[dict[str, Any]]]) -> None:
        self.objects = objects
        self.description = "fake"

    def list(self, api_version: str, kind: str, namespace: str | None = None, labels: Any = None) -> Any:
        return [o for o in self.objects.get(kind, []) if namespace in (None, o["metadata"].get("namespace"))]


def _owned(kind: str, name: str, uid: str, owner_uid: str, **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1" if kind == "ReplicaSet" else "v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "ns", "uid": uid, "ownerReferences": [{"uid": owner_uid}]},
        "spec": {"replicas": 1},
        "status": status,
    }


def test_the_tree_follows_owner_references_and_the_events_go_by_uid() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns", "uid": "u-d"},
    }
    old_rs = _owned("ReplicaSet", "web-old", "u-old", "u-d")
    old_rs["spec"]["replicas"] = 0
    rs = _owned("ReplicaSet", "web-new", "u-rs", "u-d", readyReplicas=0)
    pod = dict(CRASHED, metadata={**CRASHED["metadata"], "ownerReferences": [{"uid": "u-rs"}]})
    stranger = _owned("Pod", "other", "u-x", "u-elsewhere")
    events = [
        {
            "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "ns", "uid": "u-pod"},
            "reason": "BackOff",
            "metadata": {"name": "e1", "namespace": "ns"},
        },
        # A namesake from before (another uid) is not this Pod's.
        {
            "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "ns", "uid": "u-gone"},
            "reason": "Old",
            "metadata": {"name": "e2", "namespace": "ns"},
        },
        {
            "involvedObject": {"kind": "Deployment", "name": "web", "namespace": "ns"},
            "reason": "ScalingReplicaSet",
            "metadata": {"name": "e3", "namespace": "ns"},
        },
    ]
    backend = Listing({"ReplicaSet": [old_rs, rs], "Pod": [pod, stranger], "Event": events, "Job": []})
    ref = ObjectRef("apps/v1", "Deployment", "ns", "web")
    status = {
        "namespace": "ns",
        "objects": [{"object": ref.to_dict(), "component": "web", "ready": False, "message": "0/1"}],
    }
    out = describe_app(backend, status, {ref: deployment})  # type: ignore[arg-type]
    [group] = out["tree"]
    [node] = group["objects"]
    assert [c["object"]["name"] for c in node["children"]] == ["web-new"]  # the scaled-down one is history
    assert [c["object"]["name"] for c in node["children"][0]["children"]] == ["web-1"]
    assert [p["name"] for p in out["pods"]] == ["web-1"] and out["pods"][0]["owner"] == "Deployment/web"
    [problem] = out["problems"]
    assert [e["reason"] for e in problem["events"]] == ["ScalingReplicaSet"]
    assert [e["reason"] for e in problem["pods"][0]["events"]] == ["BackOff"]
    assert problem["owned"][0]["object"]["name"] == "web-new"
    assert Cluster(backend, ["ns"]).owned(stranger) == []  # type: ignore[arg-type]


def test_the_sandbox_records_what_its_controllers_did(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, settings=SandboxSettings(ready_delay=0.0))
    try:
        job = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "migrate", "namespace": "default"},
            "spec": {
                "template": {
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox:1"}]}
                }
            },
        }
        box.apply(job)
        box.apply(
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": "db", "namespace": "default"},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "db"}},
                    "template": {
                        "metadata": {"labels": {"app": "db"}},
                        "spec": {"containers": [{"name": "db", "image": "pg:1"}]},
                    },
                },
            }
        )
        events = box.list("v1", "Event", "default")
        assert events == box.list("v1", "Event", "default")  # the same statuses give the same Events
        by_object: dict[str, list[str]] = {}
        for e in events:
            by_object.setdefault(f"{e['involvedObject']['kind']}/{e['involvedObject']['name']}", []).append(
                e["reason"]
            )
        assert by_object["Job/migrate"] == ["SuccessfulCreate", "Completed"]
        assert by_object["StatefulSet/db"] == ["SuccessfulCreate", "SuccessfulCreate"]
        pods = [k for k in by_object if k.startswith("Pod/")]
        assert len(pods) == 3
        assert by_object["Pod/db-0"] == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
        assert all(e["source"]["component"] for e in events)
        assert box.list("v1", "Event", "default", {"app": "x"}) == []  # simulated Events carry no labels
    finally:
        box.close()


def test_a_failed_job_and_a_pod_still_creating() -> None:
    job = {
        "kind": "Job",
        "metadata": {"name": "j", "uid": "u"},
        "status": {
            "conditions": [
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                    "lastTransitionTime": "2026-01-01T00:00:09Z",
                }
            ]
        },
    }
    [failed] = workload_events(job, [])
    assert (failed["type"], failed["reason"]) == ("Warning", "BackoffLimitExceeded")
    creating = {
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"nodeName": "n"},
        "status": {
            "startTime": "2026-01-01T00:00:01Z",
            "containerStatuses": [
                {"name": "c", "image": "i", "state": {"waiting": {"reason": "ContainerCreating"}}}
            ],
        },
    }
    assert [e["reason"] for e in pod_events(creating)] == ["Scheduled", "Pulling"]
    assert simulated_events({"Pod": [creating], "Job": [job]})[0]["reason"] == "Scheduled"


selectors = st.builds(
    RuleSelector,
    component_names=st.lists(st.sampled_from(["a", "b", "web"]), max_size=2).map(tuple),
    trait_types=st.lists(st.sampled_from(["gateway", "scaler"]), max_size=1).map(tuple),
)
rules = st.builds(
    GarbageCollectRule,
    selector=selectors,
    strategy=st.sampled_from(["onAppUpdate", "onAppDelete", "never"]),
    propagation=st.sampled_from([None, "orphan", "cascading"]),
)
gc_params = st.builds(
    GarbageCollectParams,
    application_revision_limit=st.none() | st.integers(0, 20),
    keep_legacy_resource=st.booleans(),
    order=st.sampled_from([None, "dependency"]),
    rules=st.lists(rules, max_size=3).map(tuple),
    keep_registrations=st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(gc_params)
def test_a_recorded_garbage_collect_policy_reads_back_as_it_was(params: GarbageCollectParams) -> None:
    data = params_to_data(params)
    assert structure(GarbageCollectParams, data) == params
    record = {
        "revisions": [{"spec": {"policies": [{"name": "gc", "type": "garbage-collect", "properties": data}]}}]
    }
    assert gc_from_record(record) == params


def test_the_index_summary_counts_phases_on_every_save_and_kinds_on_full_ones() -> None:
    steps = {f"s{i}": {"phase": "succeeded" if i % 3 else "failed"} for i in range(9)}
    rev: dict[str, Any] = {
        "number": 1,
        "phase": "running",
        "steps": steps,
        "planned": [{"ref": {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "a", "name": "x"}}],
        "inventory": [],
    }
    layout = Layout()
    index, _ = layout.index({"app": "x", "revisions": [rev]}, None)
    summary = index["revisions"][-1]["summary"]
    assert summary["phases"] == {"failed": 3, "succeeded": 6} and summary["steps"] == 9
    assert summary["kinds"] == [["v1", "ConfigMap", "a"]] and summary["objects"] == 0
    rev["inventory"].append(
        {"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "a", "name": "d"}}
    )
    steps["s0"]["phase"] = "succeeded"
    index, _ = layout.index({"app": "x", "revisions": [rev]}, ["s0"])  # a partial save: kinds carried over
    summary = index["revisions"][-1]["summary"]
    assert summary["phases"] == {"failed": 2, "succeeded": 7} and summary["objects"] == 1
    assert summary["kinds"] == [["v1", "ConfigMap", "a"]]
    assert summary_of(rev)["kinds"] == [["apps/v1", "Deployment", "a"], ["v1", "ConfigMap", "a"]]
    assert "summary" not in rev  # an index field only: the record itself is not changed


def test_a_suspended_revision_resumed_is_recorded_as_such(tmp_path: Path) -> None:
    from tests.runner_helpers import ops_for, sandbox

    path = tmp_path / "pausing.py"
    path.write_text(
        "from tests.sample_defs import echo, pause\n"
        "from pyvela import Application\n"
        'app = Application("pausing", components=[], workflow=[pause("gate"), echo("last", text="x")])\n'
    )
    box = sandbox(tmp_path / "sb")
    try:
        assert ops_for(path, box).deploy().phase == "suspended"
        assert ops_for(path, box).resume().ok
        events = box.list("v1", "Event", "default", {"app.oam.dev/name": "pausing"})
    finally:
        box.close()
    reasons = [e["reason"] for e in sorted(events, key=lambda e: e["metadata"]["name"])]
    assert reasons == ["RevisionStarted", "RevisionSuspended", "RevisionResumed", "RevisionSucceeded"]
