"""The sandbox reports the Pod reasons it simulates, and fails a wait on them after the grace."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends import readiness as rules
from pyvela._backends.pods import ANNOTATION_GRACE
from pyvela._backends.protocol import Readiness
from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._core.objects import ObjectRef
from pyvela.errors import NotReadyError, StepTimeout


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sb", settings=SandboxSettings(ready_delay=0.05)) as sb:
        yield sb


def deployment(name: str, image: str, grace: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if grace is not None:
        meta["annotations"] = {ANNOTATION_GRACE: grace}
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
        },
    }


def test_an_image_that_never_pulls_fails_the_wait_after_the_grace(box: Sandbox) -> None:
    ref = ObjectRef.of(box.apply(deployment("web", "registry/does-not-exist:1", grace="1")))
    seen: list[str] = []

    def progress(r: Readiness) -> None:
        seen.append(r.message)

    started = time.monotonic()
    with pytest.raises(NotReadyError) as caught:
        box.wait(ref, rules.deployment, timeout=120, on_progress=progress)
    took = time.monotonic() - started
    assert "ImagePullBackOff" in caught.value.message and "(for 1s)" in caught.value.message
    assert caught.value.got == "ImagePullBackOff" and caught.value.fix
    assert 1.0 <= took < 60, took  # the grace holds, even with nothing else changing
    assert any("pod web-" in m and "ImagePullBackOff" in m for m in seen), seen


def test_the_step_grace_and_the_default(box: Sandbox) -> None:
    ref = ObjectRef.of(box.apply(deployment("api", "registry/does-not-exist:2", grace=None)))
    with pytest.raises(NotReadyError, match=r"\(for 0\.5s\)"):
        box.wait(ref, rules.deployment, timeout=120, failure_grace=0.5)
    with pytest.raises(StepTimeout):  # the default grace (60 s) outlasts a short step timeout
        box.wait(ref, rules.deployment, timeout=1.5)


def test_healthy_pods_are_not_problems(box: Sandbox) -> None:
    ref = ObjectRef.of(box.apply(deployment("ok", "nginx:1", grace="0")))
    assert box.wait(ref, rules.deployment, timeout=60)["metadata"]["name"] == "ok"
