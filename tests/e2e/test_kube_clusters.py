"""Clusters as targets on two real API servers: ``pyvela clusters``, a ClusterSet's backends,
and a member cluster whose API server goes away and comes back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.clusters import LOCAL, ClusterSet
from pyvela._core.objects import ObjectRef
from pyvela.errors import ClusterError, TransientError
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def pyvela(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyvela", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYVELA_SANDBOX": str(cwd / ".pyvela")},
    )


def _listing(two: Any, tmp_path: Path, *extra: str) -> tuple[dict[str, Any], str]:
    (tmp_path / "clusters.yaml").write_text(
        "clusters:\n"
        "  local:\n    labels: {region: north}\n"
        f"  {two.member}:\n    labels: {{region: east, tier: edge}}\n"
        "  sandbox:lab:\n    labels: {region: lab}\n"
    )
    out = pyvela(
        "clusters",
        "-o",
        "json",
        "--kubeconfig",
        two.kubeconfig,
        "--context",
        two.primary,
        *extra,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    for token in two.tokens:
        assert token not in out.stdout + out.stderr
    data = json.loads(out.stdout)
    return {row["name"]: row for row in data["clusters"]}, out.stdout


def test_pyvela_clusters_lists_both_api_servers_with_labels(two_clusters: Any, tmp_path: Path) -> None:
    rows, _ = _listing(two_clusters, tmp_path)
    assert list(rows) == [LOCAL, two_clusters.member, "sandbox:lab"]
    local, member = rows[LOCAL], rows[two_clusters.member]
    assert local["control"] and local["kind"] == "kube" and local["labels"] == {"region": "north"}
    assert f"context {two_clusters.primary}" in local["location"]
    assert member["labels"] == {"region": "east", "tier": "edge"} and not member["control"]
    assert local["reachable"] and member["reachable"], rows
    assert member["message"].startswith("Kubernetes v")
    assert rows["sandbox:lab"]["reachable"]


def test_a_stopped_api_server_is_unreachable_and_the_others_are_not(
    two_clusters: Any, tmp_path: Path
) -> None:
    with two_clusters.member_down():
        rows, _ = _listing(two_clusters, tmp_path, "--timeout", "3")
        assert rows[LOCAL]["reachable"]
        member = rows[two_clusters.member]
        assert not member["reachable"]
        assert "cannot reach the API server" in member["message"]
        assert member["seconds"] <= 3 + 1  # bounded: one attempt, never the retry budget
        text = pyvela(
            "clusters",
            "--kubeconfig",
            two_clusters.kubeconfig,
            "--context",
            two_clusters.primary,
            cwd=tmp_path,
        )
        assert text.returncode == 0 and "NO: " in text.stdout
    rows, _ = _listing(two_clusters, tmp_path)
    assert rows[two_clusters.member]["reachable"]


def test_each_cluster_is_its_own_api_server_and_errors_name_the_cluster(two_clusters: Any) -> None:
    clusters = ClusterSet.discover(kubeconfig=two_clusters.kubeconfig, context=two_clusters.primary)
    try:
        assert clusters.select(names=[two_clusters.primary, two_clusters.member]) == (
            LOCAL,
            two_clusters.member,
        )
        name = f"clusters-{uuid.uuid4().hex[:8]}"
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        member = clusters.backend(two_clusters.member)
        member.apply(ns)
        ref = ObjectRef("v1", "Namespace", "", name)
        assert member.get(ref) is not None
        # The two API servers share nothing: the primary does not see the member's objects.
        assert clusters.backend(LOCAL).get(ref) is None
        member.inner.retry_budget = 1.0  # type: ignore[attr-defined]
        with two_clusters.member_down():
            with pytest.raises(ClusterError) as caught:
                member.get(ref)
            assert caught.value.context["cluster"] == two_clusters.member
            assert str(caught.value).startswith(f"cluster {two_clusters.member!r}")
            for token in two_clusters.tokens:
                assert token not in str(caught.value) + json.dumps(caught.value.to_dict())
            assert clusters.backend(LOCAL).get(ObjectRef("v1", "Namespace", "", "default")) is not None
        # The same backend works again once its API server is back.
        assert member.get(ref) is not None
        member.delete(ref, wait=False)
    finally:
        clusters.close()


def _deployment(name: str, namespace: str, node_selector: dict[str, str] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx:1.27"}]}
    if node_selector is not None:
        spec["nodeSelector"] = node_selector
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def test_a_wait_on_a_cluster_survives_a_short_outage_of_its_api_server(two_clusters: Any) -> None:
    """The member's API server goes away while a wait on it blocks, and comes back: the wait
    goes on (its watch reconnects) and sees the Deployment become ready afterwards."""
    import threading

    from pyvela._backends import readiness as rules

    clusters = ClusterSet.discover(kubeconfig=two_clusters.kubeconfig, context=two_clusters.primary)
    member = clusters.backend(two_clusters.member)
    name = f"outage-{uuid.uuid4().hex[:8]}"
    member.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        # No node has this label: the Pod stays Pending until the selector goes.
        member.apply(_deployment("web", name, {"pyvela-test/nowhere": "true"}))
        ref = ObjectRef("apps/v1", "Deployment", name, "web")
        outcome: dict[str, Any] = {}

        def wait() -> None:
            try:
                outcome["obj"] = member.wait(ref, rules.deployment, timeout=150, failure_grace=150)
            except Exception as exc:
                outcome["error"] = exc

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        with two_clusters.member_down():
            waiter.join(3.0)
            assert waiter.is_alive(), outcome  # the outage alone does not end the wait
        member.apply(_deployment("web", name, None))
        waiter.join(150)
        assert not waiter.is_alive() and "error" not in outcome, outcome
        assert outcome["obj"]["status"]["readyReplicas"] == 1
    finally:
        member.delete(ObjectRef("v1", "Namespace", "", name), wait=False)
        clusters.close()


def test_a_wait_on_a_cluster_that_stays_away_fails_naming_it(two_clusters: Any) -> None:
    """Past the retry budget the wait gives up with an error that names the cluster (and
    none of its credentials); the other cluster answers all along."""
    import threading

    from pyvela._backends import readiness as rules

    clusters = ClusterSet.discover(kubeconfig=two_clusters.kubeconfig, context=two_clusters.primary)
    member = clusters.backend(two_clusters.member)
    name = f"away-{uuid.uuid4().hex[:8]}"
    member.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        member.apply(_deployment("web", name, {"pyvela-test/nowhere": "true"}))
        member.inner.retry_budget = 3.0  # type: ignore[attr-defined]
        outcome: dict[str, Any] = {}

        def wait() -> None:
            try:
                ref = ObjectRef("apps/v1", "Deployment", name, "web")
                outcome["obj"] = member.wait(ref, rules.deployment, timeout=120, failure_grace=120)
            except Exception as exc:
                outcome["error"] = exc

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        with two_clusters.member_down():
            waiter.join(60)
            assert not waiter.is_alive(), "the wait did not give up while its API server was away"
            assert clusters.backend(LOCAL).get(ObjectRef("v1", "Namespace", "", "default")) is not None
        error = outcome["error"]
        assert isinstance(error, ClusterError) and error.context["cluster"] == two_clusters.member, error
        assert isinstance(error, TransientError) and error.retried  # the runner retries no further
        assert "cannot reach the API server" in str(error), error
        for token in two_clusters.tokens:
            assert token not in str(error)
    finally:
        member.inner.retry_budget = 20.0  # type: ignore[attr-defined]
        member.delete(ObjectRef("v1", "Namespace", "", name), wait=False)
        clusters.close()
