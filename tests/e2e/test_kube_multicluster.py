"""Multi-cluster delivery on two real API servers (the test control plane's primary, the
control target, and its member): a topology across both, an override of image and replicas
on the member, a replication by keys, the member's API server stopped mid-deploy and then
restored, the member dropped from the topology and pruned, and a delete across both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.clusters import LOCAL, ClusterSet
from pyvela._core.objects import ObjectRef
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

APP = """
from pyvela import Application, ComponentPatch, TraitPatch, override, replication, topology
from pyvela.stdlib import deploy, scaler, webservice
from tests.multicluster_defs import regional

app = Application(
    "mc",
    namespace="{ns}",
    components=[
        webservice("web", image="nginx:1.27").with_traits(scaler(replicas=1)),
        regional("edge", image="nginx:1.27"),
    ],
    policies=[
        topology("both", clusters=("local", "{member}")),
        topology("member", clusters=("{member}",)),
        override(
            "member-big",
            components=(
                ComponentPatch(
                    name="web",
                    properties={{"image": "nginx:1.26"}},
                    traits=(TraitPatch(type="scaler", properties={{"replicas": 2}}),),
                ),
            ),
        ),
        replication("zones", keys=("a", "b"), selector=("edge",)),
    ],
    workflow=[
        deploy("web-both", policies=("both",)),
        deploy("web-member", policies=("member", "member-big", "zones")),
    ],
)
"""


def pyvela(two: Any, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyvela", *args, "--kubeconfig", two.kubeconfig, "--context", two.primary],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=400,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PYVELA_SANDBOX": str(cwd / ".pyvela"),
            "PYVELA_DEFS": "platform_defs,tests.multicluster_defs",
        },
    )


@pytest.fixture
def clusters(two_clusters: Any) -> Iterator[ClusterSet]:
    two_clusters.ensure_up()
    found = ClusterSet.discover(kubeconfig=two_clusters.kubeconfig, context=two_clusters.primary)
    yield found
    found.close()


def _deployment(clusters: ClusterSet, cluster: str, ns: str, name: str) -> dict[str, Any] | None:
    return clusters.backend(cluster).get(ObjectRef("apps/v1", "Deployment", ns, name))


def _spec(obj: dict[str, Any] | None) -> tuple[str, int]:
    assert obj is not None
    return obj["spec"]["template"]["spec"]["containers"][0]["image"], obj["spec"]["replicas"]


def test_topology_override_replication_prune_and_delete_on_two_api_servers(
    two_clusters: Any, clusters: ClusterSet, tmp_path: Path
) -> None:
    ns = f"mc-{uuid.uuid4().hex[:6]}"
    member = two_clusters.member
    app = tmp_path / "mc.py"
    app.write_text(APP.format(ns=ns, member=member))
    out = pyvela(two_clusters, "deploy", str(app), "-o", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    for token in two_clusters.tokens:
        assert token not in out.stdout + out.stderr
    assert _spec(_deployment(clusters, LOCAL, ns, "web")) == ("nginx:1.27", 1)
    assert _spec(_deployment(clusters, member, ns, "web")) == ("nginx:1.26", 2)  # overridden there
    for key in ("a", "b"):
        assert _deployment(clusters, member, ns, f"edge-{key}") is not None
        assert _deployment(clusters, LOCAL, ns, f"edge-{key}") is None
    # The record is on the control target only.
    record = ObjectRef("v1", "Secret", ns, "pyvela-app.mc")
    assert clusters.backend(LOCAL).get(record) is not None and clusters.backend(member).get(record) is None
    status = json.loads(pyvela(two_clusters, "status", str(app), "-o", "json", cwd=tmp_path).stdout)
    assert status["clusters"][member]["reachable"]
    assert status["clusters"][member]["ready"] == status["clusters"][member]["objects"]

    # The member leaves: its objects are pruned, the primary's stay.
    app.write_text(
        APP.format(ns=ns, member=member)
        .replace(
            'topology("both", clusters=("local", "' + member + '"))', 'topology("both", clusters=("local",))'
        )
        .replace('        deploy("web-member", policies=("member", "member-big", "zones")),\n', "")
    )
    out = pyvela(two_clusters, "deploy", str(app), "-o", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert _deployment(clusters, member, ns, "web") is None
    assert _deployment(clusters, member, ns, "edge-a") is None
    assert _deployment(clusters, LOCAL, ns, "web") is not None

    out = pyvela(two_clusters, "delete", str(app), "-o", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert _deployment(clusters, LOCAL, ns, "web") is None
    assert clusters.backend(LOCAL).get(record) is None


def test_a_member_stopped_mid_deploy_fails_only_its_part_and_a_rerun_finishes(
    two_clusters: Any, clusters: ClusterSet, tmp_path: Path
) -> None:
    ns = f"mc-{uuid.uuid4().hex[:6]}"
    member = two_clusters.member
    app = tmp_path / "mc.py"
    app.write_text(APP.format(ns=ns, member=member))
    with two_clusters.member_down():
        out = pyvela(two_clusters, "deploy", str(app), "-o", "json", cwd=tmp_path)
        assert out.returncode != 0
        text = out.stdout + out.stderr
        assert f"cluster {member}:" in text, text
        for token in two_clusters.tokens:
            assert token not in text
        assert _deployment(clusters, LOCAL, ns, "web") is not None  # the primary's part is done
    first = text
    out = pyvela(two_clusters, "deploy", str(app), "-o", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    # The primary's part is not applied again.
    assert "made healthy by an earlier attempt" in out.stdout + out.stderr, first + out.stderr
    assert _spec(_deployment(clusters, member, ns, "web")) == ("nginx:1.26", 2)
    # A delete reaches both API servers.
    out = pyvela(two_clusters, "delete", str(app), "-o", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (
        _deployment(clusters, member, ns, "web") is None and _deployment(clusters, LOCAL, ns, "web") is None
    )
