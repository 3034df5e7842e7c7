"""The dashboard and ``pyvela graph`` without a browser: what the pages hold, what they
refuse, the revision diff's masking, the graph command's formats, and what ``--help`` loads."""

from __future__ import annotations

import base64
import html
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyvela._cli.main import main
from pyvela._ui import drawing
from pyvela._ui.queries import group_objects, list_apps, snapshot
from pyvela._ui.revdiff import revision_diff
from pyvela._ui.serve import parse_bind
from pyvela._workflow.state import STATE_TYPE
from pyvela.errors import PyvelaError
from tests.conftest import ROOT
from tests.runner_helpers import ops_for, sandbox
from tests.ui.browser import dashboard

SEED = str(ROOT / "apps" / "lixiang.py")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sandbox the seed was deployed to, twice (the second with another image)."""
    root = tmp_path_factory.mktemp("ui") / "sb"
    backend = sandbox(root)
    try:
        assert ops_for(SEED, backend).deploy().ok
        changed = tmp_path_factory.mktemp("app") / "lixiang_v2.py"
        changed.write_text(
            (ROOT / "apps" / "lixiang.py").read_text().replace("nginx:1.14.2", "nginx:1.15.0", 1)
        )
        assert ops_for(changed, backend).deploy().ok
    finally:
        backend.close()
    return root


@pytest.fixture
def client(deployed: Path) -> Iterator[httpx.Client]:
    """An HTTP client of the dashboard, served by uvicorn on a free loopback port."""
    backend = sandbox(deployed)
    try:
        with dashboard(backend) as url, httpx.Client(base_url=url, timeout=30) as c:
            yield c
    finally:
        backend.close()


def test_the_index_lists_the_apps_with_their_latest_revision(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'href="/apps/default/lixiang-app"' in page.text
    assert "phase-succeeded" in page.text and "<td>2</td>" in page.text  # revision 2
    assert "<td>3/3</td>" in page.text and "<td>7/7</td>" in page.text  # steps, objects ready


def test_the_app_page_shows_graph_steps_objects_history_and_diff(client: httpx.Client) -> None:
    page = client.get("/apps/default/lixiang-app")
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)  # Graphviz writes "-" in ids as &#45;
    assert text.count('class="node phase-succeeded"') == 3  # the SVG's step nodes
    assert "cluster_ip → backend_ip" in text
    assert 'data-component="base-service"' in text and "cluster local" in text
    assert "Deployment default/base-service" in text
    # The last revision changed base-service's image: its diff says so, line by line.
    assert '<details class="object-diff" data-object="Deployment default/base-service">' in text
    assert "-        image: nginx:1.14.2" in text and "+        image: nginx:1.15.0" in text
    assert "<svg" in text and "/static/live.js" in text


def test_without_graphviz_the_graph_is_drawn_in_html(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drawing, "graphviz_available", lambda: False)
    text = client.get("/apps/default/lixiang-app").text
    assert "<svg" not in text
    assert 'id="step-apply-proxy-service"' in text and "carries cluster_ip → backend_ip" in text
    assert text.count("box node phase-succeeded") == 3


def test_state_json_is_what_the_live_view_follows(client: httpx.Client) -> None:
    state = client.get("/apps/default/lixiang-app/state.json").json()
    assert state["revision"] == 2 and state["phase"] == "succeeded"
    assert set(state["steps"]) == {"apply-base-service", "apply-redis", "apply-proxy-service"}
    assert state["steps"]["apply-base-service"]["outputs"]["cluster_ip"]


def test_nothing_is_written_and_strangers_are_refused(client: httpx.Client) -> None:
    assert client.post("/").status_code == 405
    assert client.post("/apps/default/lixiang-app").status_code == 405
    assert client.request("DELETE", "/apps/default/lixiang-app").status_code == 405
    # DNS rebinding: a page elsewhere naming 127.0.0.1 by its own host name.
    assert client.get("/", headers={"Host": "attacker.example"}).status_code == 400
    missing = client.get("/apps/default/nope")
    assert missing.status_code == 404 and "never deployed" in missing.text


def test_a_record_that_is_not_readable_is_an_error_row(deployed: Path, tmp_path: Path) -> None:
    backend = sandbox(tmp_path / "other")
    try:
        backend.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
        backend.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": STATE_TYPE,
                "metadata": {
                    "name": "pyvela-app.broken",
                    "namespace": "team",
                    "labels": {
                        "app.kubernetes.io/managed-by": "pyvela",
                        "owner": "pyvela",
                        "app.oam.dev/name": "broken",
                    },
                },
                "data": {"state": base64.b64encode(b"not gzip").decode()},
            }
        )
        rows = list_apps(backend)
        assert [(r["name"], r["namespace"], r["phase"]) for r in rows] == [("broken", "team", "unreadable")]
        assert "corrupt" in rows[0]["message"]
        assert list_apps(backend, "default") == []
    finally:
        backend.close()


def test_the_revision_diff_never_shows_a_secret_value() -> None:
    def secret(value: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": "default", "resourceVersion": value},
            "data": {"password": base64.b64encode(value.encode()).decode(), "user": "YWRtaW4="},
        }

    def entry(obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        ref = {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "namespace": meta["namespace"],
            "name": meta["name"],
        }
        return {"ref": ref, "manifest": obj}

    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "default"},
        "data": {"a": "1"},
    }
    old = {"number": 1, "spec": {"name": "x"}, "inventory": [entry(secret("hunter2")), entry(cm)]}
    new = {"number": 2, "spec": {"name": "x"}, "inventory": [entry(secret("s3cr3t-new"))]}
    diff = revision_diff([old, new])
    assert (diff["previous"], diff["current"], diff["spec"]) == (1, 2, "")
    changes = {o["object"]: o for o in diff["objects"]}
    assert set(changes) == {"Secret default/s", "ConfigMap default/c"}
    assert changes["ConfigMap default/c"]["change"] == "removed"
    text = changes["Secret default/s"]["diff"]
    assert "<hidden: changed>" in text and "user: <hidden>" in text
    for value in ("hunter2", "s3cr3t-new", base64.b64encode(b"hunter2").decode(), "YWRtaW4="):
        assert value not in str(diff)


def test_a_secret_inside_the_app_spec_is_masked_too() -> None:
    # k8s-objects carries whole manifests in its properties: the spec diff must mask them.
    def spec(password: str) -> dict[str, Any]:
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s"},
            "stringData": {"pw": password},
        }
        return {"name": "x", "components": [{"name": "c", "properties": {"objects": [secret]}}]}

    diff = revision_diff([{"number": 1, "spec": spec("old-pw")}, {"number": 2, "spec": spec("new-pw")}])
    assert "old-pw" not in diff["spec"] and "new-pw" not in diff["spec"]
    assert "-        pw: <hidden>" in diff["spec"] and "+        pw: '<hidden: changed>'" in diff["spec"]
    first = revision_diff([{"number": 1, "spec": spec("only-pw")}])
    assert "only-pw" not in first["spec"] and "pw: <hidden>" in first["spec"]


def test_objects_are_grouped_by_cluster_then_component() -> None:
    ref = {"apiVersion": "v1", "kind": "Service", "namespace": "default", "name": "a"}
    objects = [
        {"object": ref, "component": "a", "ready": True},
        {"object": dict(ref, name="b"), "component": "b", "ready": False, "cluster": "east"},
        {"object": dict(ref, name="a2"), "component": "a", "ready": False},
    ]
    groups = group_objects(objects)
    assert [g["cluster"] for g in groups] == ["local", "east"]
    assert [(c["component"], c["ready"], len(c["objects"])) for c in groups[0]["components"]] == [("a", 1, 2)]


@pytest.mark.parametrize(
    ("text", "allow", "expected"),
    [
        ("127.0.0.1:8470", False, ("127.0.0.1", 8470)),
        (":9000", False, ("127.0.0.1", 9000)),
        ("localhost:1", False, ("127.0.0.1", 1)),
        ("[::1]:8080", False, ("::1", 8080)),
        ("127.0.0.5:0", False, ("127.0.0.5", 0)),
        ("0.0.0.0:8470", True, ("0.0.0.0", 8470)),
    ],
)
def test_binds(text: str, allow: bool, expected: tuple[str, int]) -> None:
    assert parse_bind(text, allow_remote=allow) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.0.0.0:8470", "not a loopback address"),
        ("10.1.2.3:80", "not a loopback address"),
        ("[::]:80", "not a loopback address"),
        ("8470", "HOST:PORT"),
        ("127.0.0.1:http", "HOST:PORT"),
        ("127.0.0.1:70000", "HOST:PORT"),
        ("example.com:80", "not a host name"),
    ],
)
def test_binds_refused(text: str, message: str) -> None:
    with pytest.raises(PyvelaError, match=message):
        parse_bind(text)


def test_ui_refuses_a_remote_bind_in_one_message(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["ui", "--bind", "0.0.0.0:8470", "--sandbox", str(tmp_path / "sb")])
    err = capsys.readouterr().err
    assert code == 1 and "not a loopback address" in err and "--allow-remote" in err
    assert "Traceback" not in err and not (tmp_path / "sb").exists()


def test_graph_text_formats_and_the_last_runs_phases(
    deployed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["graph", SEED, "--sandbox", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    assert out == (ROOT / "tests" / "golden" / "lixiang-graph.mmd").read_text()
    assert not (tmp_path / "none").exists(), "reading phases must not create a sandbox"
    assert main(["graph", SEED, "-o", "dot", "--sandbox", str(deployed)]) == 0
    dot = capsys.readouterr().out
    assert dot.count('class="phase-succeeded"') == 3 and "succeeded" in dot
    assert main(["graph", SEED, "-o", "dot", "--no-phases", "--sandbox", str(deployed)]) == 0
    assert "phase-" not in capsys.readouterr().out


def test_graph_drawn_by_graphviz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not drawing.graphviz_available():
        pytest.skip("Graphviz (dot) is not installed")
    png = tmp_path / "g.png"
    assert main(["graph", SEED, "-o", "png", "-f", str(png), "--no-phases"]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")
    assert main(["graph", SEED, "-o", "svg", "--no-phases"]) == 0
    svg = html.unescape(capsys.readouterr().out)
    assert "<svg" in svg and "cluster_ip → backend_ip" in svg and 'id="step-apply-redis"' in svg


def test_graph_without_graphviz_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz raises ImportError
    assert main(["graph", SEED, "-o", "svg", "--no-phases"]) == 1
    err = capsys.readouterr().err
    assert "needs the graphviz package" in err and "-o mermaid" in err and "Traceback" not in err


def test_help_imports_no_web_stack() -> None:
    code = (
        "import contextlib, io, sys\nfrom pyvela._cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit): main(['--help'])\n"
        "print(' '.join(sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = {m.split(".")[0] for m in done.stdout.split()}
    assert not loaded & {"starlette", "uvicorn", "anyio", "graphviz", "selenium", "jinja2"}, loaded


def test_snapshot_of_an_app_never_deployed(tmp_path: Path) -> None:
    backend = sandbox(tmp_path / "sb")
    try:
        assert snapshot(backend, "default", "nothing") == {
            "revision": None,
            "phase": None,
            "message": "",
            "steps": {},
        }
    finally:
        backend.close()


def test_a_run_whose_process_is_gone_is_interrupted_not_running(tmp_path: Path) -> None:
    from pyvela._ui.queries import app_detail
    from pyvela._workflow.engine import new_step_state
    from pyvela._workflow.state import StateStore, new_record, now_iso

    backend = sandbox(tmp_path / "sb")
    try:
        record = new_record("ghost", "default")
        step = new_step_state() | {"phase": "running", "started": now_iso()}
        spec = {"name": "ghost", "workflow": {"mode": "StepByStep", "steps": [{"name": "a", "type": "noop"}]}}
        record["revisions"].append(
            {
                "number": 1,
                "hash": "h",
                "kind": "deploy",
                "phase": "running",
                "started": now_iso(),
                "finished": None,
                "spec": spec,
                "message": "",
                "planned": [],
                "inventory": [],
                "steps": {"a": step},
            }
        )
        StateStore(backend, "ghost", "default").save(record)  # written, and no Lease held
        live = snapshot(backend, "default", "ghost")
        assert live["phase"] == "interrupted" and "no process holds the Lease" in live["message"]
        detail = app_detail(backend, "default", "ghost")
        assert detail["status"]["phase"] == "interrupted"
        assert detail["graph"].step("a").phase == "running"  # the step as recorded
    finally:
        backend.close()


def test_pyvela_ui_serves_until_stopped_and_a_taken_port_is_one_message(deployed: Path) -> None:
    import os
    import re
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "pyvela", "ui", "--bind", "127.0.0.1:0", "--sandbox", str(deployed)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line + (proc.stderr.read() if proc.stderr else "")
        port = found.group(1)
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert page.status_code == 200 and "lixiang-app" in page.text
        taken = subprocess.run(
            [sys.executable, "-m", "pyvela", "ui", "--bind", f"127.0.0.1:{port}", "--sandbox", str(deployed)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert taken.returncode == 1 and "cannot listen on 127.0.0.1:" in taken.stderr
        assert "Traceback" not in taken.stderr and taken.stdout == ""
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "interrupted" not in err  # that is what a deploy says; a dashboard just stops


def test_a_revision_keeps_its_step_groups_for_the_graph(tmp_path: Path) -> None:
    from pyvela._ui.queries import app_detail

    path = tmp_path / "grouped.py"
    path.write_text(
        "from pyvela import Application, StepGroup\n"
        "from tests.sample_defs import noop\n"
        'app = Application("grouped", components=[], workflow=[noop("first"), '
        'StepGroup(name="pair", steps=[noop("g1"), noop("g2")]), noop("last")])\n'
    )
    backend = sandbox(tmp_path / "sb")
    try:
        ops = ops_for(path, backend)
        assert ops.deploy().ok
        graph = app_detail(backend, "default", "grouped")["graph"]
        assert graph.groups == (("pair", ("g1", "g2")),)
        assert graph.step("g1").group == "pair" and graph.step("first").group is None
        assert ops.rollback(1).ok  # a rollback re-applies the revision: its groups come along
        rolled = app_detail(backend, "default", "grouped")
        assert rolled["status"]["kind"] == "rollback" and rolled["graph"].groups == graph.groups
    finally:
        backend.close()
