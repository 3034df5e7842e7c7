"""Day-2 commands of part A on the real control plane: ``ls``, apps by name, ``status
--tree/--pods`` with the Pods' reasons and the Events the real scheduler and controllers
record, ``workflow logs``, and pyvela's own Events on its state record (read through both
Event APIs, as ``kubectl get events`` and ``kubectl events`` do).

kwok's test Stage (tests/cluster/stages/pod-waiting.yaml) holds Pods in ImagePullBackOff or
CrashLoopBackOff the way a kubelet reports them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support

from pyvela._backends.kube.backend import KubeBackend
from pyvela._cli.main import main
from pyvela._core.objects import ObjectRef
from pyvela._workflow.state import state_ref

kube, namespace = support.kube, support.namespace  # fixtures
DEFS = ("--defs", "tests.cli.day2_defs")
APP = """
from pyvela import Application
from tests.cli.day2_defs import chatty, service
from pyvela.stdlib import apply_component

app = Application(
    "{name}",
    namespace="{namespace}",
    components=[service("{name}-web", image="registry.example.com/web:{tag}"{extra})],
    workflow=[chatty("talk", lines=3), apply_component("apply-web", component="{name}-web")],
)
"""


def waiting(reason: str, restarts: int = 0) -> str:
    labels = {"pyvela-test.dev/waiting": "true"}
    annotations = {
        "pyvela-test.dev/waiting-reason": reason,
        "pyvela-test.dev/waiting-message": f"simulated {reason}",
        "pyvela-test.dev/restarts": str(restarts),
    }
    return f", pod_labels={labels!r}, pod_annotations={annotations!r}"


def cli(capsys: pytest.CaptureFixture[str], cluster: Any, *argv: str) -> tuple[int, Any, str]:
    code = main([*argv, "--kubeconfig", cluster.kubeconfig, "--context", cluster.context, "-o", "json"])
    out = capsys.readouterr()
    return code, json.loads(out.out) if out.out.strip() else None, out.err


def deploy(
    capsys: pytest.CaptureFixture[str],
    cluster: Any,
    tmp_path: Path,
    ns: str,
    name: str,
    extra: str = "",
    tag: str = "1",
) -> int:
    path = tmp_path / f"{name}.py"
    path.write_text(APP.format(name=name, namespace=ns, extra=extra, tag=tag))
    code, _, _ = cli(capsys, cluster, "deploy", str(path), *DEFS)
    return code


def test_ls_status_tree_pods_and_events_of_stuck_pods(
    capsys: pytest.CaptureFixture[str], kube_cluster: Any, kube: KubeBackend, namespace: str, tmp_path: Path
) -> None:
    assert deploy(capsys, kube_cluster, tmp_path, namespace, "pulling", waiting("ImagePullBackOff")) == 1
    assert deploy(capsys, kube_cluster, tmp_path, namespace, "crashing", waiting("CrashLoopBackOff", 5)) == 1
    assert deploy(capsys, kube_cluster, tmp_path, namespace, "fine") == 0

    code, data, _ = cli(capsys, kube_cluster, "ls", "-n", namespace)
    assert code == 0
    rows = {r["name"]: r for r in data["apps"]}
    assert {n: r["phase"] for n, r in rows.items()} == {
        "crashing": "failed",
        "fine": "succeeded",
        "pulling": "failed",
    }
    assert rows["fine"]["objects"] == {"ready": 1, "total": 1} and rows["fine"]["steps"]["done"] == 2
    assert rows["pulling"]["objects"] == {"ready": 0, "total": 1} and rows["pulling"]["steps"]["failed"] == 1
    code, every, _ = cli(capsys, kube_cluster, "ls", "-A")
    assert {(r["namespace"], r["name"]) for r in every["apps"]} >= {(namespace, n) for n in rows}

    code, status, _ = cli(capsys, kube_cluster, "status", "pulling", "--tree", "--pods")
    assert code == 0 and status["namespace"] == namespace and status["phase"] == "failed"
    [group] = status["tree"]
    [deployment] = group["objects"]
    [replica_set] = deployment["children"]
    [pod] = replica_set["children"]
    assert replica_set["object"]["kind"] == "ReplicaSet" and pod["object"]["kind"] == "Pod"
    assert pod["pod"]["containers"][0]["reason"] == "ImagePullBackOff"
    assert status["pods"][0]["owner"] == "Deployment/pulling-web"
    [problem] = status["problems"]
    # What the real controllers and scheduler recorded, found by the objects' uids.
    assert ("ScalingReplicaSet", "deployment-controller") in {
        (e["reason"], e["from"]) for e in problem["events"]
    }
    assert [e["reason"] for e in problem["owned"][0]["events"]] == ["SuccessfulCreate"]
    assert "Scheduled" in [e["reason"] for e in problem["pods"][0]["events"]]

    code, crash, _ = cli(capsys, kube_cluster, "status", "crashing")
    [problem] = crash["problems"]
    [crashing] = problem["pods"]
    assert crashing["restarts"] == 5 and crashing["containers"][0]["reason"] == "CrashLoopBackOff"
    assert any("restarted 5 times" in p for p in crashing["problems"])

    code, logs, _ = cli(capsys, kube_cluster, "workflow", "logs", "fine", "--step", "talk")
    assert code == 0 and [line["message"] for line in logs["steps"]["talk"]["logs"]] == [
        "line 1",
        "line 2",
        "line 3",
    ]

    record = kube.get(state_ref("pulling", namespace))
    assert record is not None
    for api_version in ("v1", "events.k8s.io/v1"):  # kubectl get events, kubectl events
        events = [
            e
            for e in kube.list(api_version, "Event", namespace)
            if (e.get("involvedObject") or e.get("regarding") or {}).get("uid") == record["metadata"]["uid"]
        ]
        assert sorted(e["reason"] for e in events) == ["RevisionFailed", "RevisionStarted"], api_version
        failed = next(e for e in events if e["reason"] == "RevisionFailed")
        assert failed["type"] == "Warning"
        assert "failed steps: apply-web" in (failed.get("message") or failed.get("note") or "")


def test_names_resolve_rollback_and_delete_by_name(
    capsys: pytest.CaptureFixture[str], kube_cluster: Any, kube: KubeBackend, namespace: str, tmp_path: Path
) -> None:
    assert deploy(capsys, kube_cluster, tmp_path, namespace, "named") == 0
    code, _, err = cli(capsys, kube_cluster, "status", "no-such-app", "-n", namespace)
    assert code == 1 and "no app 'no-such-app'" in err and "named" in err
    code, history, _ = cli(capsys, kube_cluster, "history", "named")
    assert code == 0 and [r["phase"] for r in history] == ["succeeded"]
    assert deploy(capsys, kube_cluster, tmp_path, namespace, "named", tag="2") == 0
    code, data, _ = cli(capsys, kube_cluster, "rollback", "named")  # found in its namespace
    assert code == 0 and data["phase"] == "succeeded" and data["revision"] == 3
    live = kube.get(ObjectRef("apps/v1", "Deployment", namespace, "named-web"))
    assert live is not None and live["spec"]["template"]["spec"]["containers"][0]["image"].endswith("web:1")
    code, _, err = cli(capsys, kube_cluster, "workflow", "restart", "named")
    assert code == 1 and "needs the app's file" in err
    code, data, _ = cli(capsys, kube_cluster, "delete", "named", "-n", namespace)
    assert code == 0 and data["pruned"] == [f"Deployment {namespace}/named-web"]
    assert kube.get(state_ref("named", namespace)) is None
    code, data, _ = cli(capsys, kube_cluster, "ls", "-n", namespace)
    assert code == 0 and data["apps"] == []
