"""``pyvela clusters`` on named sandboxes and on kubeconfig contexts nobody answers on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from pyvela._backends.sandbox import Sandbox
from tests.conftest import ROOT

TOKEN = "tok-cli-5e4d3c2b1a0f"


def pyvela(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyvela", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


THREE = """\
clusters:
  sandbox:eu:
    labels: {region: eu, tier: edge}
  sandbox:us:
    labels: {region: us, tier: edge}
  sandbox:lab: {}
"""


def rows(out: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["control"] == "local"
    return {row["name"]: row for row in data["clusters"]}


def test_three_named_sandboxes_with_labels_and_reachability(tmp_path: Path) -> None:
    (tmp_path / "clusters.yaml").write_text(THREE)
    env = {"PYVELA_SANDBOX": str(tmp_path / "state")}
    listed = rows(pyvela("clusters", "-o", "json", cwd=tmp_path, env=env))
    assert list(listed) == ["local", "sandbox:eu", "sandbox:lab", "sandbox:us"]
    assert listed["local"]["control"] and listed["local"]["declared"] == "default sandbox"
    assert listed["sandbox:eu"]["labels"] == {"region": "eu", "tier": "edge"}
    assert listed["sandbox:eu"]["declared"] == "clusters.yaml:2"
    assert listed["sandbox:eu"]["location"] == f"sandbox {tmp_path / 'state' / 'clusters' / 'eu'}"
    assert all(r["reachable"] and r["message"].startswith("not created yet") for r in listed.values())
    assert not (tmp_path / "state").exists()  # listing creates nothing

    with Sandbox(tmp_path / "state" / "clusters" / "us") as us:
        us.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    listed = rows(pyvela("clusters", "-o", "json", cwd=tmp_path, env=env))
    assert listed["sandbox:us"]["reachable"] and listed["sandbox:us"]["message"] == "sandbox"
    assert listed["sandbox:eu"]["message"].startswith("not created yet")

    text = pyvela("clusters", cwd=tmp_path, env=env)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["cluster", "kind", "labels", "reachable", "where"]
    assert lines[1].split()[:4] == ["local", "(control)", "sandbox", "-"]
    assert "region=eu, tier=edge" in text.stdout


def test_the_cluster_file_from_the_flag_or_the_environment(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.yaml").write_text("clusters:\n  sandbox:a: {labels: {k: v}}\n")
    env = {"PYVELA_SANDBOX": str(tmp_path / "state")}
    by_flag = rows(pyvela("clusters", "-o", "json", "--clusters", "elsewhere.yaml", cwd=tmp_path, env=env))
    by_env = rows(
        pyvela("clusters", "-o", "json", cwd=tmp_path, env={**env, "PYVELA_CLUSTERS": "elsewhere.yaml"})
    )
    assert list(by_flag) == list(by_env) == ["local", "sandbox:a"]


def test_a_bad_cluster_file_is_one_message_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "clusters.yaml").write_text("clusters:\n  sandbox:eu:\n    lables: {}\n")
    out = pyvela("clusters", cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert f"{tmp_path / 'clusters.yaml'}:3" in out.stderr or "clusters.yaml:3" in out.stderr
    assert "unknown key 'lables' for cluster 'sandbox:eu'" in out.stderr
    missing = pyvela("clusters", "--clusters", "nope.yaml", cwd=tmp_path)
    assert missing.returncode == 1 and "nope.yaml (from --clusters) does not exist" in missing.stderr


def test_unreachable_contexts_are_listed_without_credentials(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "kubeconfig"
    config.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{port}"}}],
                "users": [{"name": "u", "user": {"token": TOKEN}}],
                "contexts": [
                    {"name": n, "context": {"cluster": "c", "user": "u"}} for n in ("hub", "edge-1", "edge-2")
                ],
                "current-context": "hub",
            }
        )
    )
    out = pyvela("clusters", "-o", "json", "--kubeconfig", str(config), "--timeout", "2", cwd=tmp_path)
    listed = rows(out)
    assert list(listed) == ["local", "edge-1", "edge-2"]
    assert listed["local"]["location"] == f"context hub (kubeconfig {config})"
    assert not any(r["reachable"] for r in listed.values())
    assert all("cannot reach the API server" in r["message"] for r in listed.values()), listed
    assert TOKEN not in out.stdout + out.stderr
