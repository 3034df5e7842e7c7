"""``pyvela logs``, ``exec`` and ``port-forward`` on the sandbox, and which Pods are a component's."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._backends.sandbox.podio import SIMULATED
from pyvela._cli.main import main
from pyvela._cli.podcmds import parse_ports
from pyvela._core.objects import ObjectRef
from pyvela._workflow.podsof import app_pods
from pyvela.errors import ClusterError

WriteApp = Callable[..., Path]
DEFS = ["--defs", "tests.cli.pod_defs"]
APP = """
from pyvela import Application
from tests.cli.pod_defs import server

app = Application(
    "podapp",
    components=[
        server("web", image="registry.example.com/web:1", replicas=2, sidecar="registry.example.com/envoy:1"),
        server("jobs", image="registry.example.com/jobs:1"),
    ],
)
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def deployed(capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path) -> Path:
    path = write_app(APP)
    code, _out, err = run(capsys, "deploy", str(path), *DEFS)
    assert code == 0, err
    return path


def test_logs_of_every_pod_and_container_are_simulated_and_deterministic(
    capsys: pytest.CaptureFixture[str], deployed: Path
) -> None:
    code, out, err = run(capsys, "logs", "podapp")
    assert code == 0, err
    prefixes = [line.partition("] ")[0].lstrip("[") for line in out.splitlines()]
    pods = {p.split("/")[1] for p in prefixes}
    assert len([p for p in pods if p.startswith("web-")]) == 2 and len(pods) == 3
    assert {p.split("/")[2] for p in prefixes} == {"web", "sidecar", "jobs"}
    firsts = [line for line in out.splitlines() if SIMULATED in line]
    assert len(firsts) == 5  # one heading per container: 2 x (web, sidecar) + jobs
    assert "image registry.example.com/envoy:1" in out
    assert run(capsys, "logs", "podapp")[1] == out  # the same every time

    # By file too; one component; one container; JSON lines.
    code, by_file, _ = run(capsys, "logs", str(deployed), "jobs", *DEFS)
    assert code == 0 and {line.split("/")[1] for line in by_file.splitlines()} == {
        p for p in pods if p.startswith("jobs-")
    }
    code, out, _ = run(capsys, "logs", "podapp", "web", "-c", "sidecar", "-o", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert (
        code == 0
        and {r["container"] for r in rows} == {"sidecar"}
        and {r["component"] for r in rows} == {"web"}
    )
    # Follow on the sandbox: nothing more will come, so it ends.
    assert run(capsys, "logs", "podapp", "jobs", "-f")[0] == 0


def test_unknown_app_component_container_and_pod_name_what_exists(
    capsys: pytest.CaptureFixture[str], deployed: Path
) -> None:
    code, _, err = run(capsys, "logs", "nope")
    assert code == 1 and "no app 'nope'" in err and "podapp" in err
    code, _, err = run(capsys, "logs", "podapp", "db")
    assert code == 1 and "no component 'db'" in err and "one of web, jobs" in err
    code, _, err = run(capsys, "logs", "podapp", "-c", "db")
    assert code == 1 and "no Pod has a container 'db'" in err and "jobs, sidecar, web" in err
    code, _, err = run(capsys, "logs", "podapp", "--pod", "web-x", "-o", "json")
    data = json.loads(err)
    assert code == 1 and data["error"] == "NotFoundError" and data["expected"].startswith("one of ")
    code, _, err = run(capsys, "logs", "podapp", "-n", "elsewhere")
    assert code == 1 and "pass -n default" in err


def test_exec_and_port_forward_say_they_need_a_cluster(
    capsys: pytest.CaptureFixture[str], deployed: Path
) -> None:
    code, out, err = run(capsys, "exec", "podapp", "web", "--", "ls", "-l")
    assert code == 1 and out == "" and "exec needs a real cluster" in err and "--context" in err
    code, out, err = run(capsys, "port-forward", "podapp", "web", "8080:80")
    assert code == 1 and out == "" and "port-forward needs a real cluster" in err
    # The app and the component are checked first.
    code, _, err = run(capsys, "exec", "podapp", "db", "--", "ls")
    assert code == 1 and "no component 'db'" in err


def test_bad_flags_are_usage_errors(capsys: pytest.CaptureFixture[str], sandbox_dir: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["logs", "podapp", "--since", "soon"])
    assert exc.value.code == 2 and "--since 'soon' is not a duration" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["exec", "podapp", "web"])  # no command
    assert exc.value.code == 2


def test_parse_ports() -> None:
    assert parse_ports("8080:80") == (8080, 80)
    assert parse_ports("80") == (80, 80)
    assert parse_ports(":80") == (0, 80)
    for bad in ("x", "80:", "70000:80", "1:0", "-1:80"):
        with pytest.raises(ClusterError):
            parse_ports(bad)


def test_pods_are_found_through_their_owners_not_their_labels(
    capsys: pytest.CaptureFixture[str], deployed: Path, sandbox_dir: Path
) -> None:
    box = Sandbox(sandbox_dir)
    try:
        found = app_pods(box, "podapp", "default")
        assert found.components == ("web", "jobs")
        web = found.of("web")
        # A Pod with web's labels that web does not own is not web's.
        stray = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "stray",
                "namespace": "default",
                "labels": dict(web[0]["metadata"]["labels"]),
            },
            "spec": {"containers": [{"name": "c", "image": "i"}]},
        }
        box.apply(stray)
        again = app_pods(box, "podapp", "default")
        assert [p["metadata"]["name"] for p in again.of("web")] == [p["metadata"]["name"] for p in web]
        assert box.get(ObjectRef("v1", "Pod", "default", "stray")) is not None
    finally:
        box.close()
