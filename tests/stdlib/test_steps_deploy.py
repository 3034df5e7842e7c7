"""``deploy`` on the sandbox through the real runner: every component applied and healthy,
``parallelism`` at a time, an approval gate with ``auto=False`` (other clusters:
tests/workflow/test_multicluster.py).

Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/deploy.cue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._core.objects import ObjectRef
from pyvela.errors import ParameterError
from pyvela.stdlib import deploy
from tests.runner_helpers import ops_for, sandbox

WriteApp = Callable[..., Path]


def app_source(n: int, args: str = "") -> str:
    comps = ", ".join(f'webservice("web{i}", image="nginx:1.2{i}")' for i in range(n))
    return (
        "from pyvela import Application\nfrom pyvela.stdlib import deploy, webservice\n\n"
        f'app = Application("shop", namespace="dep", components=[{comps}], workflow=[deploy("ship"{args})])\n'
    )


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sb = sandbox(tmp_path / "sb")
    yield sb
    sb.close()


def _ready(box: Sandbox, name: str) -> bool:
    live = box.get(ObjectRef("apps/v1", "Deployment", "dep", name))
    return live is not None and (live.get("status") or {}).get("readyReplicas") == 1


def test_every_component_is_applied_and_healthy(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(app_source(7, ", parallelism=3"), "shop.py")
    result = ops_for(path, box).deploy()
    assert result.ok, result.steps
    assert all(_ready(box, f"web{i}") for i in range(7))


def test_auto_false_waits_for_approval(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(app_source(2, ", auto=False"), "shop.py")
    first = ops_for(path, box).deploy()
    assert first.phase == "suspended"
    assert box.get(ObjectRef("apps/v1", "Deployment", "dep", "web0")) is None  # nothing before approval
    resumed = ops_for(path, box).resume()
    assert resumed.ok and _ready(box, "web0") and _ready(box, "web1")


def test_a_yaml_app_deploys_with_the_deploy_step(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(
        """
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: shop, namespace: dep}
        spec:
          components:
            - {name: web0, type: webservice, properties: {image: "nginx:1.20"}}
          workflow:
            steps:
              - {name: ship, type: deploy, properties: {parallelism: 2}}
        """,
        "shop.yaml",
    )
    assert ops_for(path, box).deploy().ok and _ready(box, "web0")


def test_a_policy_named_twice_and_bad_parallelism_are_refused_at_the_call() -> None:
    with pytest.raises(ParameterError, match="name each policy once"):
        deploy("ship", policies=("topology-beijing", "topology-beijing"))
    with pytest.raises(ParameterError, match="parallelism must be at least 1"):
        deploy("ship", parallelism=0)
