"""``[tool.pyvela]`` in the project's pyproject.toml names the catalogue: a project
``pyvela new platform`` made deploys with no ``--defs``, from its root or any other directory;
``--defs`` and ``PYVELA_DEFS`` still win, and a broken table is one clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyvela._cli.main import main
from pyvela._cli.projectconf import find_pyproject, read_project
from pyvela.errors import AppLoadError


def pyvela(cwd: Path, sandbox: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PYVELA_")}
    clean.update(PYVELA_SANDBOX=str(sandbox), PYVELA_SANDBOX_DELAY="0", **env)
    return subprocess.run(
        [sys.executable, "-m", "pyvela", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("proj")
    assert main(["new", "platform", "acme", "-o", str(out)]) == 0
    return out / "acme"


def test_the_scaffolded_project_deploys_with_no_flags_from_its_root_and_elsewhere(
    project: Path, tmp_path: Path
) -> None:
    done = pyvela(project, tmp_path / "sb1", "deploy", "apps/hello.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hello revision 1: succeeded" in done.stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    app = str(project / "apps" / "hello.py")
    for args in (("deploy", app), ("status", app), ("diff", app), ("delete", app)):
        done = pyvela(elsewhere, tmp_path / "sb2", *args)
        assert done.returncode == 0, (args, done.stdout + done.stderr)
        assert "Traceback" not in done.stderr
    done = pyvela(project, tmp_path / "sb3", "defs", "service")
    assert done.returncode == 0 and "service" in done.stdout, done.stdout + done.stderr


def test_the_flag_and_the_environment_win_over_the_project(project: Path, tmp_path: Path) -> None:
    for extra, env in (((("--defs", "platform_defs")), {}), ((), {"PYVELA_DEFS": "platform_defs"})):
        done = pyvela(project, tmp_path / "sb", "render", "apps/hello.py", *extra, **env)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "component definition 'service' is not in the catalogue" in done.stderr


def test_the_scaffold_writes_defs(project: Path) -> None:
    config = read_project(project / "pyproject.toml")
    assert config is not None and config.defs == ("acme",) and config.root == project


def test_a_project_with_only_package_uses_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.pyvela]\npackage = "mine"\n')
    (tmp_path / "apps").mkdir()
    assert find_pyproject(tmp_path / "apps") == tmp_path / "pyproject.toml"
    config = read_project(tmp_path / "pyproject.toml")
    assert config is not None and config.defs == ("mine",)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert read_project(tmp_path / "pyproject.toml") is None  # not a pyvela project: the default


def test_yaml_definitions_are_relative_to_the_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.pyvela]\ndefs = "defs/kube.yaml"\n')
    config = read_project(tmp_path / "pyproject.toml")
    assert config is not None and config.defs == (str(tmp_path / "defs/kube.yaml"),)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[tool.pyvela\ndefs = 1\n", "cannot read the project's pyproject.toml"),
        ("[tool.pyvela]\n\ndefs = 3\n", "[tool.pyvela] defs in"),
        ('[tool.pyvela]\ndefs = ["acme", 4]\n', "[tool.pyvela] defs in"),
        ("[tool.pyvela]\ndefs = []\n", "[tool.pyvela] defs in"),
    ],
)
def test_a_broken_table_is_one_message_with_the_fix(tmp_path: Path, text: str, says: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(AppLoadError) as info:
        read_project(tmp_path / "pyproject.toml")
    assert says in info.value.message and info.value.fix and "--defs" in info.value.fix
    app = tmp_path / "app.py"
    app.write_text("from pyvela import Application\napp = Application('a', components=[])\n")
    done = pyvela(tmp_path, tmp_path / "sb", "render", str(app))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert says in done.stderr and str(tmp_path / "pyproject.toml") in done.stderr
    if "defs = 3" in text:
        assert f"{tmp_path / 'pyproject.toml'}:3" in done.stderr  # the line of the key
    done = pyvela(tmp_path, tmp_path / "sb", "render", str(app), "--defs", "platform_defs")
    assert done.returncode == 0, done.stderr  # --defs: the table is not read
