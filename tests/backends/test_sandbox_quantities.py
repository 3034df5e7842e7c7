"""The sandbox refuses resource quantities a real API server refuses (``cpu: lots``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._backends.sandbox.quantities import quantity_problem
from pyvela.errors import ClusterError

_REGEX = r"quantities must match the regular expression '\^\(\[\+-\]\?\[0-9\.\]\+\)"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sb", settings=SandboxSettings(ready_delay=0.0)) as sb:
        yield sb


def _pod_spec(resources: dict[str, Any], field: str = "containers") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "x"}]}
    spec.setdefault(field, [{"name": "i", "image": "x"}])[0]["resources"] = resources
    return spec


def _deployment(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "w"},
        "spec": {
            "selector": {"matchLabels": {"app": "w"}},
            "template": {"metadata": {"labels": {"app": "w"}}, "spec": spec},
        },
    }


@pytest.mark.parametrize(
    "good",
    ["1", "250m", "0.5", ".5", "1.", "64Mi", "2Gi", "1e3", "1E-2", "+1", "5n", "3u", "1k", "1Ei", 2, 0.5],
)
def test_the_quantity_grammar_accepts_kubernetes_quantities(good: Any) -> None:
    assert quantity_problem("x", good) is None


@pytest.mark.parametrize(
    "bad", ["lots", "", "1 Gi", "1GB", "1Kb", "1mi", "1e", "e3", "1.2.3", "Mi", True, None]
)
def test_the_quantity_grammar_refuses_the_rest(bad: Any) -> None:
    found = quantity_problem("x", bad)
    assert found is not None and "quantities must match" in found[2]


def test_a_deployment_with_cpu_lots_is_refused_with_the_api_servers_message(sandbox: Sandbox) -> None:
    with pytest.raises(ClusterError) as caught:
        sandbox.apply(_deployment(_pod_spec({"requests": {"cpu": "lots"}, "limits": {"cpu": "lots"}})))
    assert caught.value.message.startswith(
        'Deployment "w" is invalid: spec.template.spec.containers[0].resources.limits[cpu]: '
        'Invalid value: "lots": '
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )
    assert sandbox.list("apps/v1", "Deployment", "default") == []


def test_init_containers_and_negative_requests_are_refused(sandbox: Sandbox) -> None:
    at = r"initContainers\[0\]\.resources\.requests\[memory\]: .*"
    with pytest.raises(ClusterError, match=at + _REGEX):
        sandbox.apply(_deployment(_pod_spec({"requests": {"memory": "1GB"}}, "initContainers")))
    with pytest.raises(ClusterError, match=r'requests\[cpu\]: Invalid value: "-1": must be greater'):
        sandbox.apply(_deployment(_pod_spec({"requests": {"cpu": "-1"}})))
    stored = sandbox.apply(_deployment(_pod_spec({"requests": {"cpu": "250m", "memory": 64}})))
    assert stored["metadata"]["name"] == "w"


def test_pods_pvcs_and_claim_templates_are_checked(sandbox: Sandbox) -> None:
    spec = _pod_spec({"limits": {"cpu": "x"}})
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}
    with pytest.raises(ClusterError, match=r'Pod "p" is invalid: spec.containers\[0\]\.resources\.limits'):
        sandbox.apply(pod)
    claim_spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "ten gigs"}}}
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "d"}, "spec": claim_spec}
    with pytest.raises(ClusterError, match=r'"d" is invalid: spec\.resources\.requests\[storage\]: .*"ten'):
        sandbox.apply(pvc)
    sts = _deployment(_pod_spec({}))
    sts["kind"] = "StatefulSet"
    sts["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "d"}, "spec": claim_spec}]
    with pytest.raises(
        ClusterError, match=r"volumeClaimTemplates\[0\]\.spec\.resources\.requests\[storage\]"
    ):
        sandbox.apply(sts)
