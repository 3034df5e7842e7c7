"""A Job whose template changes, on the real API server: refused with the way out, or
recreated when its component declares ``update="recreate"``."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support

from pyvela._backends.kube.backend import KubeBackend
from pyvela._core.objects import ObjectRef
from pyvela.errors import ImmutableFieldError
from tests.runner_helpers import ops_for

kube, namespace = support.kube, support.namespace  # fixtures


def app(tmp_path: Path, namespace: str, kind: str, image: str) -> Path:
    path = tmp_path / f"{kind}-{image.replace(':', '-')}.py"
    path.write_text(
        textwrap.dedent(
            f"""\
            from pyvela import Application
            from tests.job_defs import {kind}, apply_only

            job = {kind}("migrate", image="{image}")
            app = Application("jobs", namespace="{namespace}", components=[job],
                              workflow=[apply_only("apply", component="migrate")])
            """
        )
    )
    return path


def job(kube: KubeBackend, namespace: str) -> dict:  # type: ignore[type-arg]
    live = kube.get(ObjectRef("batch/v1", "Job", namespace, "migrate"))
    assert live is not None
    return live


def test_the_api_server_refuses_a_new_job_template(kube: KubeBackend, namespace: str, tmp_path: Path) -> None:
    assert ops_for(app(tmp_path, namespace, "job", "busybox:1"), kube, defs=["tests.job_defs"]).deploy().ok
    result = ops_for(app(tmp_path, namespace, "job", "busybox:2"), kube, defs=["tests.job_defs"]).deploy()
    step = result.steps["apply"]
    assert not result.ok and step["reason"] == ImmutableFieldError.__name__, step
    assert "field is immutable" in step["message"]


@pytest.mark.parametrize("kind", ["recreated_job"])
def test_a_recreate_component_replaces_its_job(
    kube: KubeBackend, namespace: str, tmp_path: Path, kind: str
) -> None:
    assert ops_for(app(tmp_path, namespace, kind, "busybox:1"), kube, defs=["tests.job_defs"]).deploy().ok
    first = job(kube, namespace)["metadata"]["uid"]
    assert ops_for(app(tmp_path, namespace, kind, "busybox:2"), kube, defs=["tests.job_defs"]).deploy().ok
    live = job(kube, namespace)
    assert live["metadata"]["uid"] != first
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2"
