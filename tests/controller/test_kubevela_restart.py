"""``--kubevela``: ``vela workflow restart [--step S]`` read from the status as the vela CLI
(v1.10) writes it (the status replaced without ``workflow``; or ``finished``, ``suspend``,
``terminated`` cleared and the statuses from ``S`` on removed), run as ``pyvela workflow
restart [--step S]``; on the sandbox, through the operator's loop."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from pathlib import Path
from typing import Any

from pyvela._controller.kubevela import KUBEVELA
from pyvela._controller.kubevela_restart import WHOLE, restart_requested
from pyvela._controller.served import PYVELA

SPEC: dict[str, Any] = {
    "components": [
        {"name": f"w{i}", "type": "worker", "properties": {"image": "busybox:1", "cmd": ["sleep", "1d"]}}
        for i in (1, 2)
    ],
    "workflow": {
        "steps": [
            {"name": f"deploy-w{i}", "type": "apply-component", "properties": {"component": f"w{i}"}}
            for i in (1, 2)
        ]
    },
}


def _app(spec: dict[str, Any] = SPEC) -> dict[str, Any]:
    return {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {"name": "shop", "namespace": "team", "generation": 1, "uid": "u1"},
        "spec": spec,
    }


def _vela_restart(status: dict[str, Any], step: str | None = None) -> dict[str, Any]:
    """The status as ``vela workflow restart [--step]`` leaves it (StepByStep)."""
    out = copy.deepcopy(status)
    if step is None:
        out.pop("workflow")
        return out
    wf = out["workflow"]
    wf.update(finished=False, suspend=False, terminated=False)
    names = [s["name"] for s in wf["steps"]]
    wf["steps"] = wf["steps"][: names.index(step)]
    return out


def _status(
    phase: str, steps: dict[str, Any] | None = None, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    from pyvela._controller.status import app_status

    view = {
        "app": "shop",
        "revision": 1,
        "hash": "h",
        "phase": phase,
        "message": "",
        "steps": steps or {f"deploy-w{i}": {"phase": "succeeded"} for i in (1, 2)},
        "objects": [],
    }
    return KUBEVELA.shape(body or _app(), app_status(view), view)


def test_the_restarts_are_read_and_nothing_else_is() -> None:
    for phase in ("succeeded", "failed", "terminated", "suspended", "running"):
        status = _status(phase)
        assert restart_requested(_app() | {"status": status}) is None, phase  # as the controller writes it
        assert restart_requested(_app() | {"status": _vela_restart(status)}) == WHOLE
    done = _status("succeeded")
    assert restart_requested(_app() | {"status": _vela_restart(done, "deploy-w2")}) == "deploy-w2"
    assert restart_requested(_app() | {"status": _vela_restart(done, "deploy-w1")}) == "deploy-w1"
    # A resource never deployed has no workflow either: nothing to restart.
    assert restart_requested(_app() | {"status": {"status": "rendering"}}) is None
    # A status of an older spec lacking a step the new spec added is no request.
    newer = _app() | {"metadata": {**_app()["metadata"], "generation": 2}}
    assert restart_requested(newer | {"status": _vela_restart(done, "deploy-w2")}) is None
    # Without a workflow, the generated steps are the components'.
    bare = _app({"components": SPEC["components"]})
    status = _status("succeeded", {"w1": {"phase": "succeeded"}, "w2": {"phase": "succeeded"}}, bare)
    assert restart_requested(bare | {"status": status}) is None
    assert restart_requested(bare | {"status": _vela_restart(status, "w2")}) == "w2"
    assert PYVELA.restart_requested(_app() | {"status": _vela_restart(done)}) is None  # pyvela's: its CLI


def _turn(controller: Any, body: dict[str, Any]) -> None:
    async def sleep(*_a: Any, **_kw: Any) -> None:
        raise asyncio.CancelledError

    controller._sleep = sleep
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(controller.app_loop(body, False))


def test_vela_workflow_restart_runs_the_workflow_again_on_the_sandbox(tmp_path: Path) -> None:
    """The KubeVela Application in the sandbox (with pyvela's minimal CRD and its status
    subresource): the controller's status writes and the vela CLI's are stored as a server would."""
    from pyvela._backends.patching import merge_patcher
    from pyvela._backends.sandbox import Sandbox, SandboxSettings
    from pyvela._cli.centres import config_centre_for
    from pyvela._controller.kubevela_crd import crd
    from pyvela._controller.operator import Controller
    from pyvela._controller.reconciler import Reconciler
    from pyvela._core.objects import ObjectRef

    box = Sandbox(tmp_path / "sandbox", settings=SandboxSettings(ready_delay=0.1))
    box.apply(crd())
    box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    ref = ObjectRef("core.oam.dev/v1beta1", "Application", "team", "shop")
    app = _app()
    box.create({**app, "metadata": {"name": "shop", "namespace": "team"}})
    reconciler = Reconciler(box, centre_for=config_centre_for, workdir=tmp_path / "work", wait_lock=5)
    controller = Controller(reconciler, workers=1, served=KUBEVELA)

    def live() -> dict[str, Any]:
        found = box.get(ref)
        assert found is not None
        return found

    def status() -> dict[str, Any]:
        return dict(live().get("status") or {})

    def settled() -> dict[str, str]:
        for _ in range(50):  # the controller does not wait for readiness: its loop goes on
            _turn(controller, live())
            if status().get("status") == "running":
                break
        steps = reconciler.ops(_app()).status()["steps"]
        return {name: str(s.get("started")) for name, s in steps.items()}

    first = settled()
    assert status()["workflow"]["finished"] is True
    _turn(controller, live())
    assert settled() == first  # a resync: nothing run again

    patcher = merge_patcher(box)
    restarted = _vela_restart(status(), "deploy-w2")
    patcher.merge_patch(ref, {"status": {"workflow": restarted["workflow"]}}, status=True)
    assert restart_requested(live()) == "deploy-w2"
    second = settled()
    assert second["deploy-w1"] == first["deploy-w1"] and second["deploy-w2"] != first["deploy-w2"]
    assert status()["workflow"]["finished"] is True and len(status()["workflow"]["steps"]) == 2

    patcher.merge_patch(ref, {"status": {"workflow": None}}, status=True)  # `vela workflow restart`
    assert restart_requested(live()) == WHOLE
    third = settled()
    assert all(third[name] != second[name] for name in third)  # every step ran again
    assert status()["workflow"]["status"] == "succeeded"
    assert status()["latestRevision"]["revision"] == 1  # a restart is no new revision
