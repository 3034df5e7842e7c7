"""The shared Backend contract: every test here runs against each backend in ``BACKENDS``.

- ``sandbox``: the embedded sandbox, fresh per test;
- ``kube``: the Kubernetes backend on the e2e control plane of ``tests/e2e`` (marked
  ``e2e``; skipped when the control plane is not built, failed under CI). The control
  plane is started once per session and handed on to ``tests/e2e`` (see
  :func:`shared_kube_cluster`), so a full run starts one cluster, not two.

The tests isolate themselves in a fresh namespace each, so they suit a shared cluster.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backend import Backend
from pyvela._objects import ObjectRef

BACKENDS = ["sandbox", pytest.param("kube", marks=pytest.mark.e2e)]
E2E_CONFTEST = Path(__file__).resolve().parents[1] / "e2e" / "conftest.py"


def _e2e() -> Any:
    """tests/e2e/conftest.py as a plain module (its helpers and the fixture's generator)."""
    name = "pyvela_e2e_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, E2E_CONFTEST)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def shared_kube_cluster() -> Iterator[Any]:
    """The e2e control plane, started here when the contract tests come first.

    ``tests/e2e``'s ``kube_cluster`` fixture uses ``$PYVELA_TEST_KUBECONFIG`` when set, so
    exporting it hands this cluster on instead of starting a second one; the launcher's
    ``ControlPlane`` stays reachable as ``launcher.SHARED_CONTROL_PLANE`` for tests that
    need to stop and start a component.
    """
    e2e = _e2e()
    external = os.environ.get("PYVELA_TEST_KUBECONFIG")
    if external:
        yield e2e._external(external)
        return
    fixture = e2e.kube_cluster.__wrapped__()
    cluster = next(fixture)
    saved = {k: os.environ.get(k) for k in ("PYVELA_TEST_KUBECONFIG", "PYVELA_TEST_CONTEXT")}
    os.environ.update(PYVELA_TEST_KUBECONFIG=cluster.kubeconfig, PYVELA_TEST_CONTEXT=cluster.context)
    launcher = e2e.load_launcher()
    launcher.SHARED_CONTROL_PLANE = cluster.control_plane
    try:
        yield cluster
    finally:
        launcher.SHARED_CONTROL_PLANE = None
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        next(fixture, None)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sandbox":
        from pyvela._sandbox import Sandbox, SandboxSettings

        sandbox = Sandbox(tmp_path / "sandbox", settings=SandboxSettings(ready_delay=0.2))
        try:
            yield sandbox
        finally:
            sandbox.close()
    elif request.param == "kube":
        from pyvela._kube import KubeBackend

        cluster = request.getfixturevalue("shared_kube_cluster")
        kube = KubeBackend.connect(kubeconfig=cluster.kubeconfig, context=cluster.context)
        try:
            yield kube
        finally:
            kube.close()
    else:  # pragma: no cover - no other backend yet
        raise AssertionError(f"unknown backend {request.param}")


@pytest.fixture
def namespace(backend: Backend) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    name = f"contract-{uuid.uuid4().hex[:8]}"
    backend.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    backend.delete(ObjectRef("v1", "Namespace", "", name), wait=False)
