"""Day-2 commands on the sandbox (issue 14, part A): ``ls``, apps by name, ``status --tree/--pods``
with the Pods' reasons and Events, ``workflow logs``, and the Events on the state record."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._cli.main import main
from pyvela._core.objects import LABEL_APP, ObjectRef
from pyvela._workflow.state import state_ref

WriteApp = Callable[..., Path]
DEFS = ["--defs", "tests.cli.day2_defs"]

APP = """
from pyvela import Application
from tests.cli.day2_defs import chatty, service
from pyvela.stdlib import apply_component

app = Application(
    "{name}",
    namespace="{namespace}",
    components=[service("{name}-web", image="{image}", replicas=2)],
    workflow=[chatty("talk", lines={lines}), apply_component("apply-web", component="{name}-web")],
)
"""


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYVELA_SANDBOX_DELAY", "0.05")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def as_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code, out, err = run(capsys, *argv, "-o", "json")
    return code, json.loads(out) if out.strip() else json.loads(err)


def deploy(
    capsys: pytest.CaptureFixture[str],
    write_app: WriteApp,
    name: str,
    *,
    namespace: str = "default",
    image: str = "nginx:1.27",
    lines: int = 3,
) -> tuple[int, Path]:
    path = write_app(
        APP.format(name=name, namespace=namespace, image=image, lines=lines), f"{name}-{namespace}.py"
    )
    code, _out, _err = run(capsys, "deploy", str(path), *DEFS)
    return code, path


def test_ls_lists_every_app_from_the_records(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    code, out, err = run(capsys, "ls")
    assert code == 0 and out == "" and "No apps found in namespace default" in err  # as kubectl
    assert deploy(capsys, write_app, "shop")[0] == 0
    assert deploy(capsys, write_app, "broken", image="nginx:does-not-exist")[0] == 1
    assert deploy(capsys, write_app, "shop", namespace="team-a")[0] == 0

    code, data = as_json(capsys, "ls")
    assert code == 0 and data["namespace"] == "default"
    rows = {r["name"]: r for r in data["apps"]}
    assert sorted(rows) == ["broken", "shop"]
    assert rows["shop"]["phase"] == "succeeded" and rows["shop"]["revision"] == 1
    assert rows["shop"]["steps"] == {"done": 2, "failed": 0, "skipped": 0, "total": 2}
    assert rows["shop"]["objects"] == {"ready": 1, "total": 1}
    assert rows["shop"]["lastChange"]
    assert rows["broken"]["phase"] == "failed" and rows["broken"]["steps"]["failed"] == 1
    assert rows["broken"]["objects"] == {"ready": 0, "total": 1}
    assert "apply-web" in rows["broken"]["message"]

    code, data = as_json(capsys, "ls", "-A")
    assert [(r["namespace"], r["name"]) for r in data["apps"]] == [
        ("default", "broken"),
        ("default", "shop"),
        ("team-a", "shop"),
    ]
    code, out, _ = run(capsys, "ls", "-A")
    head, *lines = out.splitlines()
    assert head.split()[:4] == ["NAMESPACE", "NAME", "REVISION", "PHASE"] and len(lines) == 3
    assert lines[0].split()[:5] == ["default", "broken", "1", "failed", "1/2"]
    code, out, _ = run(capsys, "ls", "-n", "team-a")
    assert "NAMESPACE" not in out and out.splitlines()[1].split()[:4] == ["shop", "1", "succeeded", "2/2"]


class Counting:
    """The sandbox, noting each read."""

    def __init__(self, backend: Sandbox) -> None:
        self.backend = backend
        self.description = backend.description
        self.calls: list[tuple[str, str]] = []

    def get(self, ref: Any) -> Any:
        self.calls.append(("get", ref.kind))
        return self.backend.get(ref)

    def list(self, api_version: str, kind: str, namespace: str | None = None, labels: Any = None) -> Any:
        self.calls.append(("list", kind))
        return self.backend.list(api_version, kind, namespace, labels)


def test_ls_reads_indexes_only_and_lists_each_kind_once(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    for i in range(4):
        assert deploy(capsys, write_app, f"app{i}")[0] == 0
    from pyvela._workflow.listing import list_apps

    box = Sandbox(sandbox_dir)
    counting = Counting(box)
    try:
        rows = list_apps(counting, None)  # type: ignore[arg-type]
    finally:
        box.close()
    assert [r.name for r in rows] == ["app0", "app1", "app2", "app3"]
    assert all(r.objects_ready == r.objects_total == 1 for r in rows)
    # One list of the state records, one per kind the apps applied; no part, no app alone.
    assert counting.calls == [("list", "Secret"), ("list", "Deployment")], counting.calls


def test_ls_reads_a_record_written_before_summaries(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    assert deploy(capsys, write_app, "old")[0] == 0
    import base64
    import gzip

    box = Sandbox(sandbox_dir)
    try:
        live = box.get(state_ref("old", "default"))
        assert live is not None
        index = json.loads(gzip.decompress(base64.b64decode(live["data"]["state"])))
        assert index["revisions"][-1]["summary"]["steps"] == 2
        for rev in index["revisions"]:
            rev.pop("summary", None)
        live["data"]["state"] = base64.b64encode(gzip.compress(json.dumps(index).encode())).decode()
        box.replace(live)
    finally:
        box.close()
    _, data = as_json(capsys, "ls")
    row = data["apps"][0]
    assert row["steps"] == {"done": 2, "failed": 0, "skipped": 0, "total": 2}
    assert row["objects"] == {"ready": 1, "total": 1}


def test_commands_take_an_app_name(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    _, path = deploy(capsys, write_app, "shop")
    code, by_file = as_json(capsys, "status", str(path), *DEFS)
    code2, by_name = as_json(capsys, "status", "shop")
    assert code == code2 == 0
    assert by_name["health_rules"] == "kinds" and by_file["health_rules"] == "definitions"
    for key in ("app", "namespace", "revision", "hash", "phase", "steps"):
        assert by_name[key] == by_file[key], key
    assert [o["ready"] for o in by_name["objects"]] == [True]
    code, history = as_json(capsys, "history", "shop")
    assert code == 0 and [r["number"] for r in history] == [1]
    code, out, _ = run(capsys, "history", "shop")
    assert out.splitlines()[0].split()[:3] == ["REVISION", "KIND", "PHASE"]

    code, out, err = run(capsys, "status", "nope")
    assert code == 1 and "no app 'nope'" in err and "shop (namespace default)" in err
    code, err_json = as_json(capsys, "status", "nope")
    assert code == 1 and err_json["error"] == "NotFoundError" and "shop" in err_json["expected"]

    deploy(capsys, write_app, "shop", namespace="team-a")
    code, out, err = run(capsys, "status", "shop")
    assert code == 1 and "several namespaces: default, team-a" in err and "-n" in err
    code, data = as_json(capsys, "status", "shop", "-n", "team-a")
    assert code == 0 and data["namespace"] == "team-a"
    code, out, err = run(capsys, "history", "shop", "-n", "elsewhere")
    assert code == 1 and "no app 'shop' in namespace 'elsewhere'" in err and "-n default" in err

    for argv in (("deploy", "shop"), ("workflow", "resume", "shop"), ("workflow", "restart", "shop")):
        code, out, err = run(capsys, *argv, "-n", "default")
        assert code == 1 and "needs the app's file" in err and "Traceback" not in err, argv


def test_delete_and_terminate_by_name(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    assert deploy(capsys, write_app, "broken", image="nginx:does-not-exist")[0] == 1
    code, data = as_json(capsys, "workflow", "terminate", "broken")
    assert code == 0 and data["phase"] == "terminated"
    code, data = as_json(capsys, "workflow", "suspend", "broken")
    assert code == 0 and "nothing to suspend" in data["message"]
    code, data = as_json(capsys, "delete", "broken")
    assert code == 0 and data["phase"] == "deleted" and data["pruned"] == ["Deployment default/broken-web"]
    box = Sandbox(sandbox_dir)
    try:
        assert box.get(state_ref("broken", "default")) is None
        assert box.list("apps/v1", "Deployment", "default") == []
    finally:
        box.close()
    code, _, err = run(capsys, "delete", "broken")
    assert code == 1 and "no app 'broken'" in err


def test_status_tree_and_pods_show_owned_pods_their_reasons_and_events(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    assert deploy(capsys, write_app, "broken", image="nginx:does-not-exist")[0] == 1
    code, data = as_json(capsys, "status", "broken", "--tree", "--pods")
    assert code == 0
    [group] = data["tree"]
    [deployment] = group["objects"]
    assert group["component"] == "broken-web" and deployment["object"]["kind"] == "Deployment"
    pods = deployment["children"]
    assert len(pods) == 2 and all(p["object"]["kind"] == "Pod" for p in pods)
    waiting = pods[0]["pod"]["containers"][0]
    assert waiting["state"] == "waiting" and waiting["reason"] == "ImagePullBackOff"
    assert [p["owner"] for p in data["pods"]] == ["Deployment/broken-web"] * 2
    [problem] = data["problems"]
    assert [e["reason"] for e in problem["events"]] == ["ScalingReplicaSet"]
    pod_events = [(e["type"], e["reason"], e["from"]) for e in problem["pods"][0]["events"]]
    assert ("Normal", "Scheduled", "default-scheduler") in pod_events
    assert ("Warning", "Failed", "kubelet, sandbox-node") in pod_events
    assert ("Normal", "BackOff", "kubelet, sandbox-node") in pod_events

    code, out, _ = run(capsys, "status", "broken", "--tree", "--pods")
    assert "tree:" in out and "Pod/broken-web-" in out and "ImagePullBackOff" in out
    assert (
        "not healthy:" in out and "Events:" in out and 'Back-off pulling image "nginx:does-not-exist"' in out
    )
    # A healthy app shows no problems and reads no Pods unless asked.
    deploy(capsys, write_app, "fine")
    code, data = as_json(capsys, "status", "fine")
    assert code == 0 and "problems" not in data and "tree" not in data


def test_workflow_logs_keep_the_newest_lines_and_say_how_many_were_dropped(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    from pyvela._workflow.events import LOG_LIMIT

    assert deploy(capsys, write_app, "chat", lines=LOG_LIMIT + 7)[0] == 0
    code, data = as_json(capsys, "workflow", "logs", "chat", "--step", "talk")
    assert code == 0 and list(data["steps"]) == ["talk"] and data["limit"] == LOG_LIMIT
    talk = data["steps"]["talk"]
    assert talk["dropped"] == 7 and len(talk["logs"]) == LOG_LIMIT
    assert talk["logs"][0]["message"] == "line 8" and talk["logs"][-1]["message"] == f"line {LOG_LIMIT + 7}"
    code, out, _ = run(capsys, "workflow", "logs", "chat")
    assert "talk (succeeded): 50 line(s):" in out and "7 older line(s) dropped" in out
    assert "apply-web (succeeded): 0 line(s)" in out
    code, status = as_json(capsys, "status", "chat")
    assert status["steps"]["talk"]["dropped_logs"] == 7
    code, out, _ = run(capsys, "status", "chat")
    assert "log (last 10 of 50):\n    ... 7 older line(s) dropped" in out
    code, out, err = run(capsys, "workflow", "logs", "chat", "--step", "nope")
    assert code == 1 and "no step 'nope'" in err and "talk, apply-web" in err
    assert deploy(capsys, write_app, "chat", lines=2)[0] == 0  # revision 2 logs two lines
    code, latest = as_json(capsys, "workflow", "logs", "chat", "--step", "talk")
    code2, first = as_json(capsys, "workflow", "logs", "chat", "--step", "talk", "--revision", "1")
    assert code == code2 == 0
    assert (latest["revision"], len(latest["steps"]["talk"]["logs"])) == (2, 2)
    assert (first["revision"], first["steps"]["talk"]["dropped"]) == (1, 7)
    code, out, err = run(capsys, "workflow", "logs", "chat", "--revision", "5")
    assert code == 1 and "no revision 5" in err and "one of 1, 2" in err


def test_each_revision_start_and_end_is_an_event_on_the_state_record(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    deploy(capsys, write_app, "ev")
    deploy(capsys, write_app, "ev", image="nginx:does-not-exist")
    box = Sandbox(sandbox_dir)
    try:
        record = box.get(state_ref("ev", "default"))
        assert record is not None
        events = box.list("v1", "Event", "default", {LABEL_APP: "ev"})
    finally:
        box.close()
    seen = [(e["type"], e["reason"], e["message"].split(":")[0]) for e in events]
    assert sorted(seen) == sorted(
        [
            ("Normal", "RevisionStarted", "revision 1 (deploy) started"),
            ("Normal", "RevisionSucceeded", "revision 1 succeeded"),
            ("Normal", "RevisionStarted", "revision 2 (deploy) started"),
            ("Warning", "RevisionFailed", "revision 2 failed"),
        ]
    )
    for e in events:
        involved = e["involvedObject"]
        assert involved["kind"] == "Secret" and involved["name"] == "pyvela-app.ev"
        assert involved["uid"] == record["metadata"]["uid"]
        assert e["source"]["component"] == "pyvela"
    failed = next(e for e in events if e["reason"] == "RevisionFailed")
    assert "failed steps: apply-web" in failed["message"]


def test_rollback_by_name_reapplies_an_earlier_revision_with_the_recorded_policies(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    source = """
from pyvela import Application, garbage_collect
from tests.cli.day2_defs import service

app = Application(
    "roll",
    components=[service("roll-web", image="nginx:{tag}")] + [{extra}],
    policies=[garbage_collect("gc", keep_legacy_resource=True)],
)
"""
    extra = 'service("extra", image="nginx:1")'
    for tag, more in (("1.27", ""), ("1.28", extra)):
        path = write_app(source.format(tag=tag, extra=more), "roll.py")
        assert run(capsys, "deploy", str(path), *DEFS)[0] == 0
    code, data = as_json(capsys, "rollback", "roll", "1")
    assert code == 0 and data["phase"] == "succeeded" and data["revision"] == 3
    box = Sandbox(sandbox_dir)
    try:
        live = box.get(ObjectRef("apps/v1", "Deployment", "default", "roll-web"))
        assert live is not None
        assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
        # Revision 1 had no `extra`: the recorded policy (keep_legacy_resource) keeps it.
        assert box.get(ObjectRef("apps/v1", "Deployment", "default", "extra")) is not None
    finally:
        box.close()
    code, history = as_json(capsys, "history", "roll")
    assert [(r["kind"], r["rollback_of"]) for r in history][-1] == ("rollback", 1)
    code, _, err = run(capsys, "rollback", "roll", "9")
    assert code == 1 and "no revision 9" in err


def test_ls_says_interrupted_and_unreadable_and_still_lists_the_rest(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    import base64
    import gzip

    from pyvela._workflow.state import encode

    assert deploy(capsys, write_app, "killed")[0] == 0
    box = Sandbox(sandbox_dir)
    try:
        live = box.get(state_ref("killed", "default"))
        assert live is not None
        index = json.loads(gzip.decompress(base64.b64decode(live["data"]["state"])))
        index["revisions"][-1]["phase"] = "running"  # as a run killed halfway leaves it; no Lease held
        live["data"]["state"] = base64.b64encode(gzip.compress(json.dumps(index).encode())).decode()
        box.replace(live)
        damaged = encode({"app": "damaged", "revisions": []}, "damaged", state_ref("damaged", "default"))
        damaged["data"]["state"] = base64.b64encode(b"not gzip").decode()
        box.create(damaged)
    finally:
        box.close()
    code, data = as_json(capsys, "ls")
    rows = {r["name"]: r for r in data["apps"]}
    assert code == 0 and rows["killed"]["phase"] == "interrupted"
    assert rows["damaged"]["phase"] == "unreadable" and "corrupt" in rows["damaged"]["message"]


def test_ls_on_a_cluster_defaults_to_the_contexts_namespace(tmp_path: Path) -> None:
    import argparse

    from pyvela._cli.day2 import default_namespace

    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
        "contexts:\n- name: a\n  context: {cluster: c, user: u, namespace: team-a}\n"
        "- name: b\n  context: {cluster: c, user: u}\n"
    )

    def args(**kw: Any) -> argparse.Namespace:
        return argparse.Namespace(**{"namespace": None, "context": None, "kubeconfig": str(config), **kw})

    assert default_namespace(args()) == "team-a"
    assert default_namespace(args(context="b")) == "default"
    assert default_namespace(args(namespace="x")) == "x"
    assert default_namespace(argparse.Namespace(namespace=None, context=None, kubeconfig=None)) == "default"
