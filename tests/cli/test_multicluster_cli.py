"""``pyvela deploy/status/delete`` of a multi-cluster app from the command line: named
sandboxes declared in a cluster file, the record on the default sandbox."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._cli.main import main
from pyvela._core.objects import ObjectRef

WriteApp = Callable[..., Path]

APP = """
from pyvela import Application, ComponentPatch, override, topology
from pyvela.stdlib import webservice

app = Application(
    "shop",
    namespace="shop",
    components=[webservice("web", image="nginx:1")],
    policies=[
        topology("prod", cluster_label_selector={"env": "prod"}),
        override("eu-image", components=(ComponentPatch(name="web", properties={"image": "nginx:eu"}),)),
    ],
)
"""


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYVELA_SANDBOX_DELAY", "0.05")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _web(root: Path, name: str) -> dict[str, Any] | None:
    box = Sandbox(root / "clusters" / name)
    try:
        return box.get(ObjectRef("apps/v1", "Deployment", "shop", "web"))
    finally:
        box.close()


def test_deploy_status_and_delete_across_named_sandboxes(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path, tmp_path: Path
) -> None:
    clusters = tmp_path / "clusters.yaml"
    clusters.write_text(
        textwrap.dedent(
            """
            clusters:
              sandbox:eu: {labels: {env: prod, region: eu}}
              sandbox:us: {labels: {env: prod, region: us}}
              sandbox:lab: {labels: {env: test}}
            """
        )
    )
    path = write_app(APP, "shop.py")
    code, out, err = run(capsys, "deploy", str(path), "--clusters", str(clusters), "-o", "json")
    assert code == 0, err
    for name in ("eu", "us"):
        live = _web(sandbox_dir, name)
        assert live is not None and live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:eu"
    assert not (sandbox_dir / "clusters" / "lab" / "sandbox.db").exists()  # env=test: never opened
    code, out, err = run(capsys, "status", str(path), "--clusters", str(clusters), "-o", "json")
    assert code == 0, err
    status = json.loads(out)
    assert set(status["clusters"]) == {"sandbox:eu", "sandbox:us"}
    assert all(c["ready"] == c["objects"] for c in status["clusters"].values())
    code, out, err = run(capsys, "delete", str(path), "--clusters", str(clusters), "-o", "json")
    assert code == 0, err
    assert _web(sandbox_dir, "eu") is None and _web(sandbox_dir, "us") is None


def test_status_text_names_each_object_cluster(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path, tmp_path: Path
) -> None:
    clusters = tmp_path / "clusters.yaml"
    clusters.write_text("clusters:\n  sandbox:eu: {labels: {env: prod}}\n")
    path = write_app(APP, "shop.py")
    assert run(capsys, "deploy", str(path), "--clusters", str(clusters))[0] == 0
    code, out, err = run(capsys, "status", str(path), "--clusters", str(clusters))
    assert code == 0, err
    assert "sandbox:eu: Deployment/web" in out and "cluster sandbox:eu: 1/1 ready" in out


def test_diff_compares_each_placement_with_its_cluster(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path, tmp_path: Path
) -> None:
    clusters = tmp_path / "clusters.yaml"
    clusters.write_text(
        "clusters:\n  sandbox:eu: {labels: {env: prod}}\n  sandbox:us: {labels: {env: prod}}\n"
    )
    path = write_app(APP, "shop.py")

    def diff() -> dict[str, str]:
        code, out, err = run(capsys, "diff", str(path), "--clusters", str(clusters), "-o", "json")
        assert code in (0, 1), err
        return {c["object"]: c["change"] for c in json.loads(out)}

    before = diff()
    assert before["sandbox:eu: Deployment shop/web"] == "create"
    assert before["sandbox:us: Deployment shop/web"] == "create"
    assert "Deployment shop/web" not in before  # nothing of the app goes to the control target
    assert run(capsys, "deploy", str(path), "--clusters", str(clusters))[0] == 0
    assert set(diff().values()) == {"unchanged"}
    path.write_text(path.read_text().replace('"nginx:eu"', '"nginx:eu2"'))
    assert diff()["sandbox:us: Deployment shop/web"] == "update"
    path.write_text(
        path.read_text().replace('cluster_label_selector={"env": "prod"}', 'clusters=("sandbox:eu",)')
    )
    after = diff()
    assert (
        after["sandbox:us: Deployment shop/web"] == "prune"
        and after["sandbox:eu: Deployment shop/web"] == "update"
    )


def test_status_rollback_and_delete_by_name_reach_every_cluster(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path, tmp_path: Path
) -> None:
    clusters = tmp_path / "clusters.yaml"
    clusters.write_text(
        "clusters:\n  sandbox:eu: {labels: {env: prod}}\n  sandbox:us: {labels: {env: prod}}\n"
    )
    path = write_app(APP, "shop.py")
    assert run(capsys, "deploy", str(path), "--clusters", str(clusters))[0] == 0
    path.write_text(path.read_text().replace('"nginx:eu"', '"nginx:eu2"'))
    assert run(capsys, "deploy", str(path), "--clusters", str(clusters))[0] == 0
    # By the app's name alone: its record says where everything is.
    code, out, err = run(capsys, "status", "shop", "-n", "shop", "--clusters", str(clusters), "-o", "json")
    assert code == 0, err
    assert set(json.loads(out)["clusters"]) == {"sandbox:eu", "sandbox:us"}
    code, out, err = run(capsys, "rollback", "shop", "-n", "shop", "--clusters", str(clusters), "-o", "json")
    assert code == 0, err
    live = _web(sandbox_dir, "us")
    assert live is not None and live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:eu"
    code, out, err = run(capsys, "delete", "shop", "-n", "shop", "--clusters", str(clusters), "-o", "json")
    assert code == 0, err
    assert _web(sandbox_dir, "eu") is None and _web(sandbox_dir, "us") is None
