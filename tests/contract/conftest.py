"""The shared Backend contract: every test here runs against each backend in ``BACKENDS``.

Only the sandbox for now. A Kubernetes backend is added by appending "kube" to ``BACKENDS``
and a branch in :func:`backend` that connects to the e2e control plane (tests/e2e); the
tests already isolate themselves in a fresh namespace each, so they suit a shared cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvela._backend import Backend
from pyvela._objects import ObjectRef

BACKENDS = ["sandbox"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sandbox":
        from pyvela._sandbox import Sandbox, SandboxSettings

        sandbox = Sandbox(tmp_path / "sandbox", settings=SandboxSettings(ready_delay=0.2))
        try:
            yield sandbox
        finally:
            sandbox.close()
    else:  # pragma: no cover - no other backend yet
        raise AssertionError(f"unknown backend {request.param}")


@pytest.fixture
def namespace(backend: Backend) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    name = f"contract-{uuid.uuid4().hex[:8]}"
    backend.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    backend.delete(ObjectRef("v1", "Namespace", "", name), wait=False)
