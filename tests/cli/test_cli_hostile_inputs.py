"""What an acceptance suite throws at the CLI: each is one message and a non-zero exit (or the
documented answer), never a traceback, and nothing runs on a mistyped step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._cli.main import main

WriteApp = Callable[..., Path]

APP = """
from pyvela import Application
from pyvela.stdlib import apply_component, webservice

app = Application("h", components=[webservice("api", image="nginx:1.27")],
                  workflow=[apply_component("apply-api", component="api")])
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_graph_to_a_file_it_cannot_write_is_one_message(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path, tmp_path: Path
) -> None:
    path = write_app(APP)
    for target in (tmp_path / "missing" / "g.md", tmp_path):
        code, _out, err = run(capsys, "graph", str(path), "-o", "mermaid", "-f", str(target), "--no-phases")
        assert code == 1 and f"cannot write the graph to {target}" in err and "fix:" in err, err


def test_restart_from_a_step_the_workflow_lacks_runs_nothing(
    capsys: pytest.CaptureFixture[str],
    write_app: WriteApp,
    sandbox_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYVELA_SANDBOX_DELAY", "0")
    path = write_app(APP)
    code, out, err = run(capsys, "workflow", "restart", str(path), "--step", "apply-ap")
    assert code == 1, out + err
    assert (
        "no step named 'apply-ap'" in err and "did you mean 'apply-api'?" in err and "--step apply-api" in err
    )
    code, out, err = run(capsys, "status", str(path))
    assert code == 1 and "never deployed" in (out + err)  # it deployed nothing


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("pyvela ")
