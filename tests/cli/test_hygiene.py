"""CLI hygiene: closed pipes, rollback's header, `defs` details, grouped warnings, `config get`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._cli.commands import group_warnings
from pyvela._cli.main import main
from tests.conftest import ROOT

WriteApp = Callable[..., Path]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_closed_pipe_ends_quietly(sandbox_dir: Path) -> None:
    # `pyvela render | head -1`: the reader closes the pipe after one line.
    shell = f"{sys.executable} -m pyvela render apps/lixiang.py -o yaml | head -1"
    for _ in range(3):  # the render is larger than a pipe buffer, so the write really fails
        done = subprocess.run(
            ["sh", "-c", shell], cwd=ROOT, capture_output=True, text=True, timeout=120, env=dict(os.environ)
        )
        assert done.stdout.strip() == "---"
        assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def test_a_deploy_whose_reader_leaves_still_finishes(sandbox_dir: Path) -> None:
    done = subprocess.run(
        ["sh", "-c", f"{sys.executable} -m pyvela deploy apps/lixiang.py | head -1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.stdout.startswith("deploying lixiang-app") and "Traceback" not in done.stderr, done.stderr
    status = subprocess.run(
        [sys.executable, "-m", "pyvela", "status", "apps/lixiang.py", "-o", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    data = json.loads(status.stdout)
    assert data["phase"] == "succeeded"  # the closed pipe did not stop the run halfway


def test_closed_pipe_in_process_returns_141_without_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyvela._cli import commands

    def broken(_args: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(commands, "dispatch", broken)
    saved = os.dup(1)
    try:
        with capsys.disabled():
            assert main(["defs"]) == 141
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def test_rollback_names_the_target_revision(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    first = write_app("""
from tests.sample_defs import echo
from pyvela import Application
app = Application("rb", components=[], workflow=[echo("say", text="one")])
""")
    assert run(capsys, "deploy", str(first), "--defs", "tests.sample_defs")[0] == 0
    first.write_text(first.read_text().replace('"one"', '"two"'))
    assert run(capsys, "deploy", str(first), "--defs", "tests.sample_defs")[0] == 0
    history = json.loads(run(capsys, "history", str(first), "--defs", "tests.sample_defs", "-o", "json")[1])
    code, out, err = run(capsys, "rollback", str(first), "--defs", "tests.sample_defs")
    assert code == 0, err
    assert f"(revision 1, {history[0]['hash'][:12]})" in out
    assert history[1]["hash"][:12] not in out.splitlines()[0]


DEFS_MODULE = '''
from __future__ import annotations

import attrs

from pyvela import StepContext, step


@attrs.frozen(kw_only=True)
class Params:
    """Params.

    Attributes:
        tags: labels for the release
    """

    tags: list[str] = attrs.field(factory=lambda: ["a", "b"])
    mode: str = "fast"


@attrs.frozen(kw_only=True)
class Outs:
    address: str
    port: int


@step(name="factory-step", params=Params)
async def factory_step(p: Params, ctx: StepContext) -> Outs:
    """A step whose parameter has a factory default."""
    return Outs(address="x", port=1)
'''


def test_defs_shows_factory_defaults_and_output_fields(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hygiene_defs.py").write_text(textwrap.dedent(DEFS_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = run(capsys, "defs", "factory-step", "--defs", "hygiene_defs")
    assert code == 0, err
    assert "tags: list[str] (default ['a', 'b'])" in out
    assert "None" not in out
    assert "mode: str (default 'fast')" in out
    assert "outputs: Outs" in out and "address: str" in out and "port: int" in out
    js = json.loads(run(capsys, "defs", "factory-step", "--defs", "hygiene_defs", "-o", "json")[1])
    assert js[0]["parameters"]["tags"]["default"] == ["a", "b"]
    assert js[0]["outputFields"] == {"address": "str", "port": "int"}


def test_defs_of_an_unsupported_kubevela_step_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "defs", "vela-cli")
    assert code != 0
    assert "step type 'vela-cli' is not supported, because" in err and "no definition" not in err
    assert "Traceback" not in err
    code, out, _err = run(capsys, "defs", "topology")  # a multi-cluster policy pyvela has
    assert code == 0 and "topology" in out


def test_repeated_warnings_are_grouped() -> None:
    same = [
        f"component 'c{i}': Service 'c{i}' targets port 80, which no container of the workload exposes"
        for i in range(1000)
    ]
    other = "component 'x': Service 'x' targets port 81, which no container of the workload exposes"
    lines = group_warnings([*same, other])
    assert len(lines) == 2
    assert lines[0].startswith("1000x component {name}: Service {name} targets port 80")
    assert "[c0, c1, c2, … (997 more)]" in lines[0]
    assert lines[1] == other  # a single warning stays as it was


def test_render_prints_one_line_for_many_components_with_the_same_cause(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp
) -> None:
    path = write_app("""
from platform_defs import base_service, ingress
from pyvela import Application
app = Application("many", components=[
    base_service(f"svc{i}", image="nginx", cluster="c").with_traits(
        ingress(domain=f"svc{i}.example.com", http={"/": 11001})
    )
    for i in range(30)
])
""")
    code, _out, err = run(capsys, "render", str(path))
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: 30x component {name}")


def test_config_get_reads_the_sandbox_centre(capsys: pytest.CaptureFixture[str], sandbox_dir: Path) -> None:
    assert run(capsys, "deploy", "apps/lixiang.py")[0] == 0
    code, out, err = run(capsys, "config", "get", "apps/lixiang.py")
    assert code == 0, err
    assert out.splitlines()[0] == "# lixiang-app/DEV/default/application on sandbox config centre"
    assert "base-service.service = base-service" in out
    js = json.loads(run(capsys, "config", "get", "apps/lixiang.py", "-o", "json")[1])
    assert js["items"]["base-service.service"] == "base-service"
    code, _out, err = run(capsys, "config", "get", "apps/lixiang.py", "--cluster", "nope")
    assert code == 1 and "no release of lixiang-app/DEV/nope/application" in err and "Traceback" not in err


def test_rollback_restores_the_target_revisions_registration(
    capsys: pytest.CaptureFixture[str], sandbox_dir: Path, tmp_path: Path
) -> None:
    changed = tmp_path / "lixiang2.py"
    changed.write_text((ROOT / "apps/lixiang.py").read_text().replace('"nginx:1.14.2"', '"nginx:1.15"', 1))

    def registered() -> dict[str, str]:
        out = run(capsys, "config", "get", "apps/lixiang.py", "-o", "json")[1]
        items: dict[str, str] = json.loads(out)["items"]
        return items

    assert run(capsys, "deploy", "apps/lixiang.py")[0] == 0
    first = registered()
    assert run(capsys, "deploy", str(changed))[0] == 0
    second = registered()
    assert second["base-service.revision"] != first["base-service.revision"]
    code, out, err = run(capsys, "rollback", str(changed))
    assert code == 0, err
    assert "restored 7 item(s) of step apply-base-service" in out
    assert registered() == first
    # idempotent: a second rollback to the same revision publishes nothing new
    history = json.loads(run(capsys, "history", str(changed), "-o", "json")[1])
    code, out, _err = run(capsys, "rollback", str(changed), "1")
    assert code == 0 and "already published" in out and len(history) == 3


def test_an_apostrophe_is_not_a_quoted_name() -> None:
    twice = [
        f"component 'w{i}': Service 'w{i}' is rendered twice (the component's output "
        f"'webserviceExpose' and trait 'gateway'): the second replaces the first when applied"
        for i in range(5)
    ]
    (line,) = group_warnings(twice)
    assert line == (
        "5x component {name}: Service {name} is rendered twice (the component's output "
        "{name} and trait {name}): the second replaces the first when applied [w0, w1, w2, … (2 more)]"
    )
