"""The seed's KubeVela Application runs on the seed's platform_defs: the same objects as
apps/lixiang.py, the same workflow, and a deploy on the sandbox through the real runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pyvela import load_app
from pyvela._app.render import render_component
from tests.app.kubevela.conftest import SEED_APP, SHARED_SEED
from tests.conftest import ROOT
from tests.runner_helpers import ops_for, sandbox

PY_APP = ROOT / "apps" / "lixiang.py"


def _rendered(path: Path) -> list[dict[str, object]]:
    loaded = load_app(path)
    return [
        o.object
        for use in loaded.app.components
        for o in render_component(loaded.app, use, revision=loaded.revision).objects
    ]


def test_the_repos_copy_is_the_shared_seed() -> None:
    shared = SHARED_SEED / "application.yaml"
    if not shared.exists():
        pytest.skip("the shared seed is not on this machine")
    assert yaml.safe_load(shared.read_text()) == yaml.safe_load(SEED_APP.read_text())


def test_the_seed_yaml_renders_the_objects_of_the_python_app() -> None:
    assert _rendered(SEED_APP) == _rendered(PY_APP)


def test_the_seed_yaml_is_the_python_app_step_for_step() -> None:
    from_yaml, from_python = load_app(SEED_APP), load_app(PY_APP)
    assert from_yaml.spec == from_python.spec  # components, traits, steps, inputs ($ref), order
    assert from_yaml.revision == from_python.revision
    ref = from_yaml.plan.steps["apply-proxy-service"].use.params.backend_ip
    assert (ref.step, ref.field) == ("apply-base-service", "cluster_ip")  # baseIP <- exportKey clusterIP


def test_render_on_the_command_line_prints_the_same_yaml(tmp_path: Path) -> None:
    def render(app: Path) -> list[object]:
        out = subprocess.run(
            [sys.executable, "-m", "pyvela", "render", str(app)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return list(yaml.safe_load_all(out.stdout))

    assert render(SEED_APP) == render(PY_APP)


def test_the_seed_yaml_deploys_on_the_sandbox_and_wires_the_cluster_ip(tmp_path: Path) -> None:
    box = sandbox(tmp_path / "sb")
    ops = ops_for(SEED_APP, box)
    result = ops.deploy()
    assert result.ok, result.to_dict()
    base_ip = result.steps["apply-base-service"]["outputs"]["cluster_ip"]
    assert result.steps["apply-proxy-service"]["outputs"]["backend_ip"] == base_ip
    status = ops.status()
    assert {o["object"]["kind"] for o in status["objects"]} >= {"Deployment", "Rollout", "Service", "Ingress"}
    deleted = ops.delete()
    assert deleted.phase == "deleted" and deleted.pruned, deleted.to_dict()


def test_every_command_takes_the_yaml_file(tmp_path: Path) -> None:
    def pyvela(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pyvela", *args, str(SEED_APP), "--sandbox", str(tmp_path / "sb")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert pyvela("diff").returncode == 1  # everything is to be created
    deployed = pyvela("deploy")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "lixiang-app revision 1: succeeded" in deployed.stdout + deployed.stderr
    diff = pyvela("diff")
    assert diff.returncode == 0, diff.stdout + diff.stderr
    status = pyvela("status")
    assert status.returncode == 0 and "apply-proxy-service" in status.stdout
    deleted = pyvela("delete")
    assert deleted.returncode == 0 and "deleted" in deleted.stdout + deleted.stderr
