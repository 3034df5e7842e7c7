"""Bad arguments and targets on the command line: one clear message, a non-zero exit, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SECRET = "s3cr3t-token-value"


def pyvela(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [sys.executable, "-m", "pyvela", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    assert "Traceback" not in out.stderr, out.stderr
    return out


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--parallel", "0"], "--parallel: expected a whole number >= 1, got 0"),
        (["--parallel", "-3"], "--parallel: expected a whole number >= 1, got -3"),
        (["--wait-lock", "-5"], "--wait-lock: expected a finite number of seconds >= 0, got -5"),
        (["--wait-lock", "nan"], "--wait-lock: expected a finite number of seconds >= 0"),
    ],
)
def test_numeric_options_are_checked(sandbox_dir: Path, args: list[str], text: str) -> None:
    out = pyvela("deploy", "apps/lixiang.py", *args)
    assert out.returncode == 2 and text in out.stderr
    assert not sandbox_dir.exists()  # refused before anything was deployed


def test_rollback_to_a_revision_that_does_not_exist(sandbox_dir: Path) -> None:
    assert pyvela("deploy", "apps/lixiang.py").returncode == 0
    out = pyvela("rollback", "apps/lixiang.py", "99")
    assert out.returncode == 1
    assert "has no revision 99" in out.stderr and "expected: one of 1" in out.stderr
    zero = pyvela("rollback", "apps/lixiang.py", "0")
    assert zero.returncode == 2 and "expected a whole number >= 1" in zero.stderr


def test_a_directory_as_the_app_file(sandbox_dir: Path) -> None:
    out = pyvela("deploy", "apps")
    assert out.returncode == 1 and "'apps' is a directory, not an app file" in out.stderr


def test_sys_exit_at_import_deploys_nothing_and_fails(tmp_path: Path, sandbox_dir: Path) -> None:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "quit.py").write_text("import sys\n\nsys.exit(0)\n")
    out = pyvela("deploy", "apps/quit.py", cwd=tmp_path)
    assert out.returncode == 1
    assert "apps/quit.py:3: the app called sys.exit(0)" in out.stderr


def test_relative_app_path_reports_the_real_line(tmp_path: Path, sandbox_dir: Path) -> None:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "bad.py").write_text("x = 1\n\n\nraise RuntimeError('boom')\n")
    out = pyvela("render", "apps/bad.py", cwd=tmp_path)
    assert out.returncode == 1 and "apps/bad.py:4: importing the app failed: RuntimeError: boom" in out.stderr


def test_a_kubeconfig_that_does_not_exist(tmp_path: Path) -> None:
    out = pyvela("status", "apps/lixiang.py", "--kubeconfig", str(tmp_path / "nope.yaml"))
    assert out.returncode == 1 and f"the kubeconfig {tmp_path / 'nope.yaml'} does not exist" in out.stderr


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (f"users:\n- name: u\n  user:\n    token: {SECRET}\n  x: [\n", "is not valid YAML"),
        (f"{SECRET}\n", "does not hold a mapping"),
        ("- a\n- b\n", "does not hold a mapping"),
    ],
    ids=["broken", "scalar", "list"],
)
def test_a_malformed_kubeconfig_is_one_message_without_its_content(
    tmp_path: Path, content: str, text: str
) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(content)
    out = pyvela("status", "apps/lixiang.py", "--kubeconfig", str(config))
    assert out.returncode == 1 and text in out.stderr and str(config) in out.stderr
    assert SECRET not in out.stdout + out.stderr


def test_context_without_any_kubeconfig_names_the_context_and_the_paths(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "KUBECONFIG": ""}
    out = pyvela("status", "apps/lixiang.py", "--context", "prod", env=env)
    assert out.returncode == 1
    assert "no kubeconfig to find context 'prod' in" in out.stderr
    assert str(tmp_path / ".kube" / "config") in out.stderr
    listed = tmp_path / "a.yaml"
    out = pyvela("status", "apps/lixiang.py", "--context", "prod", env={**env, "KUBECONFIG": str(listed)})
    assert out.returncode == 1 and str(listed) in out.stderr


def test_context_missing_from_the_kubeconfig_lists_the_known_ones(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text("apiVersion: v1\ncontexts:\n- name: dev\n  context: {cluster: c, user: u}\n")
    out = pyvela("status", "apps/lixiang.py", "--kubeconfig", str(config), "--context", "prod")
    assert out.returncode == 1
    assert "has no context 'prod'" in out.stderr and "one of dev" in out.stderr
