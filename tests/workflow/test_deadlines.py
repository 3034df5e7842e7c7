"""Step deadlines hold whatever the step's code does: blocked, late, retrying, or awaiting asyncio.

The steps are in tests/deadline_defs.py. Bounds here are generous (a loaded 2-core machine):
a step with a 1 s timeout must end as Timeout well inside them, never hang the run.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._app.application import DEFAULT_STEP_TIMEOUT
from pyvela._app.loader import load_app
from pyvela._backends.sandbox import Sandbox
from pyvela._cli.run import config_centre_for
from pyvela._core import actions as a
from pyvela._workflow.driver import StepRun, drive
from pyvela._workflow.events import Recorder
from pyvela._workflow.lifecycle import AppOps
from pyvela._workflow.results import Options
from pyvela._workflow.state import state_ref
from pyvela._workflow.watchdog import Attempt, step_timeout
from pyvela.errors import StepTimeout, TransientError
from pyvela.testing import run_step
from tests import deadline_defs
from tests.conftest import ROOT
from tests.runner_helpers import sandbox

WriteApp = Callable[..., Path]
DEFS = ["platform_defs", "tests.sample_defs", "tests.deadline_defs"]
HEADER = """
from tests.deadline_defs import asyncio_sleeper, asyncio_yielder, blocker, gated_apply, helper_sleeper
from tests.sample_defs import call, echo
from pyvela import Application, Workflow
"""
BOUND = 30.0  # seconds a run with a 1 s step timeout may take, at most, on a loaded machine


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sb = sandbox(tmp_path / "sb")
    yield sb
    sb.close()


def ops(path: Path, backend: Sandbox, **options: Any) -> AppOps:
    loaded = load_app(path, defs=DEFS)
    centre, config = config_centre_for(backend, loaded)
    options.setdefault("backoff", 0.01)
    return AppOps(
        backend, loaded, events=Recorder(), config_centre=centre, config=config, options=Options(**options)
    )


def deploy(path: Path, backend: Sandbox, **options: Any) -> tuple[dict[str, Any], float]:
    start = time.monotonic()
    result = ops(path, backend, **options).deploy()
    return dict(result.steps), time.monotonic() - start


def line_of(text: str, fn: Callable[..., Any]) -> int:
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, line in enumerate(lines) if text in line)


def step_thread_alive(step: str) -> bool:
    return any(t.name == f"pyvela-step-{step}" for t in threading.enumerate())


# ----------------------------------------------------------------------------- blocked steps


def test_a_blocked_step_fails_as_timeout_and_frees_its_slot(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(
        HEADER
        + """
b = blocker("slot", seconds=3600).with_timeout(1)
after = echo("after", text="still runs").when("always")
app = Application("blocked", components=[], workflow=[b, after])
"""
    )
    # One slot: the step after the blocked one runs only if the abandoned thread gave it back.
    steps, took = deploy(path, box, parallel=1)
    assert took < BOUND
    assert steps["slot"]["phase"] == "failed" and steps["slot"]["reason"] == "Timeout", steps["slot"]
    assert "thread was abandoned" in steps["slot"]["message"]
    assert (
        "last action: log 'about to block'" in steps["slot"]["message"]
        and "timeout 1s" in steps["slot"]["message"]
    )
    assert steps["after"]["phase"] == "succeeded"
    assert step_thread_alive("slot")  # still blocked in time.sleep: abandoned, not joined


def test_a_step_that_overruns_its_timeout_then_returns_is_a_timeout(
    write_app: WriteApp, box: Sandbox
) -> None:
    path = write_app(
        HEADER
        + """
app = Application("late", components=[], workflow=[blocker("b", seconds=0.8).with_timeout(0.3)])
"""
    )
    steps, took = deploy(path, box)
    assert took < BOUND
    assert steps["b"]["phase"] == "failed" and steps["b"]["reason"] == "Timeout", steps["b"]
    assert steps["b"]["outputs"] == {}  # the late result is not taken as the step's outputs
    assert "deadline" in steps["b"]["message"]


def test_the_workflow_default_timeout_holds_a_step_without_its_own(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(
        HEADER
        + """
wf = Workflow(steps=[blocker("b", seconds=3600)], step_timeout=1)
app = Application("dflt", components=[], workflow=wf)
"""
    )
    steps, took = deploy(path, box)
    assert took < BOUND
    assert steps["b"]["reason"] == "Timeout" and "timeout 1s" in steps["b"]["message"]


def test_a_step_without_any_timeout_gets_the_default_never_none() -> None:
    loaded = load_app(ROOT / "apps" / "lixiang.py", defs=["platform_defs"])
    assert all(s.timeout == DEFAULT_STEP_TIMEOUT for s in loaded.plan.steps.values())
    assert (
        step_timeout(None) == step_timeout(float("inf")) == step_timeout(float("nan")) == DEFAULT_STEP_TIMEOUT
    )
    assert step_timeout(2.5) == 2.5


def test_an_abandoned_step_writes_nothing_when_it_wakes_up(
    write_app: WriteApp, box: Sandbox, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    path = write_app(
        HEADER
        + f"""
g = gated_apply("g", gate={str(gate)!r}, name="late").with_timeout(1)
app = Application("woken", components=[], workflow=[g])
"""
    )
    steps, _ = deploy(path, box)
    assert steps["g"]["reason"] == "Timeout" and "abandoned" in steps["g"]["message"]
    record = box.get(state_ref("woken", "default"))
    assert record is not None
    gate.touch()  # the step's thread goes on: it would apply a ConfigMap now
    end = time.monotonic() + BOUND
    while step_thread_alive("g") and time.monotonic() < end:
        time.sleep(0.05)
    assert not step_thread_alive("g")
    assert box.get(a.ObjectRef("v1", "ConfigMap", "default", "late")) is None
    after = box.get(state_ref("woken", "default"))
    assert after is not None and after["metadata"]["resourceVersion"] == record["metadata"]["resourceVersion"]


def test_an_abandoned_attempt_can_neither_report_nor_write() -> None:
    attempt = Attempt.begin("s", 5)
    assert attempt.abandon() and attempt.abandoned
    assert not attempt.report()  # the thread's late outcome is dropped
    with pytest.raises(StepTimeout, match="abandoned"), attempt.writing():
        pytest.fail("an abandoned step's thread must not write state")
    reported = Attempt.begin("t", 5)
    assert reported.report() and not reported.abandon()  # whoever claims first decides
    with reported.writing():
        pass


def test_deploy_of_a_blocked_step_exits_non_zero_within_a_bound(write_app: WriteApp, tmp_path: Path) -> None:
    path = write_app(
        HEADER
        + """
app = Application("cli-blocked", components=[], workflow=[blocker("b", seconds=3600).with_timeout(1)])
"""
    )
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "pyvela", "deploy", str(path), "--defs", "tests.deadline_defs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # a hang fails the test here instead of blocking the suite
        env={**os.environ, "PYVELA_SANDBOX": str(tmp_path / "sb")},
    )
    assert time.monotonic() - start < 60
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "Timeout" in text and "abandoned" in text, text
    assert "Traceback" not in text


# ----------------------------------------------------------------------------- asyncio in a step


@pytest.mark.parametrize(
    ("definition", "marker", "awaited"),
    [
        (deadline_defs.asyncio_sleeper, "# line of the bad await", "asyncio.sleep"),
        (deadline_defs.asyncio_yielder, "# line of the bare yield", "asyncio.sleep"),
        (deadline_defs.helper_sleeper, "# line inside the helper", "asyncio.sleep"),
    ],
)
def test_awaiting_asyncio_points_at_the_steps_own_await(definition: Any, marker: str, awaited: str) -> None:
    where_fn = deadline_defs._nap if "helper" in marker else definition.run
    expected = f"deadline_defs.py:{line_of(marker, where_fn)}"
    trace = run_step(definition("s"), results={a.Log: None})
    err = trace.error
    assert err is not None
    assert f"step awaited {awaited}, which is not a pyvela action" in err.message
    assert str(err.where).endswith(expected), str(err)
    assert "asyncio" not in str(err.where)


def test_awaiting_asyncio_in_a_deploy_names_the_step_file_and_line(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(HEADER + 'app = Application("aio", components=[], workflow=[asyncio_sleeper("s")])\n')
    steps, _ = deploy(path, box)
    line = line_of("# line of the bad await", deadline_defs.asyncio_sleeper.run)
    assert steps["s"]["phase"] == "failed"
    assert "not a pyvela action" in steps["s"]["message"]
    assert f"deadline_defs.py:{line}:" in steps["s"]["message"], steps["s"]["message"]
    assert "tasks.py" not in steps["s"]["message"]


# ----------------------------------------------------------------------------- retries and the deadline


def _run(perform: Callable[[a.Action[Any]], Any], *, deadline: float, backoff: float, retries: int) -> Any:
    async def body() -> Any:
        return await a.Log(message="x")

    run = StepRun(name="s", definition="d", journal=[], retries=retries, backoff=backoff)
    return drive(body(), run, perform, deadline=deadline, cancel=threading.Event())


def test_a_retry_that_would_end_past_the_deadline_is_not_made() -> None:
    calls: list[a.Action[Any]] = []

    def perform(action: a.Action[Any]) -> Any:
        calls.append(action)
        raise TransientError("server answered 503")

    # The first backoff (10 s) already ends past the deadline (5 s): no sleep, no retry.
    with pytest.raises(StepTimeout, match="leaves no time to retry: server answered 503"):
        _run(perform, deadline=time.monotonic() + 5, backoff=10, retries=5)
    assert len(calls) == 1


def test_an_action_that_ends_after_the_deadline_is_a_timeout_not_a_result() -> None:
    deadline = time.monotonic() + 0.05

    def perform(action: a.Action[Any]) -> Any:
        while time.monotonic() <= deadline:  # an action that overruns (as a slow server would)
            time.sleep(0.01)
        return "late"

    with pytest.raises(StepTimeout, match="ended after the deadline"):
        _run(perform, deadline=deadline, backoff=0.01, retries=0)


def test_retries_of_a_failing_call_stop_at_the_step_deadline(write_app: WriteApp, box: Sandbox) -> None:
    seen: list[float] = []

    import http.server

    class Failing(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(time.monotonic())
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        path = write_app(
            HEADER
            + f'app = Application("r", components=[], workflow=[call("c", url="{url}").with_timeout(1)])\n'
        )
        # 50 retries with a 0.2 s backoff doubling would take minutes; the deadline stops them.
        steps, took = deploy(path, box, retries=50, backoff=0.2)
    finally:
        server.shutdown()
        server.server_close()
    assert took < BOUND
    assert steps["c"]["reason"] == "Timeout", steps["c"]
    assert "leaves no time to retry" in steps["c"]["message"]
    assert 1 <= len(seen) < 10


def test_terminate_ends_a_blocked_step_without_waiting_for_its_deadline(
    write_app: WriteApp, box: Sandbox
) -> None:
    path = write_app(
        HEADER + 'app = Application("stuck", components=[], workflow=[blocker("held", seconds=3600)])\n'
    )
    results: list[Any] = []
    runner = threading.Thread(target=lambda: results.append(ops(path, box).deploy()), daemon=True)
    runner.start()
    end = time.monotonic() + BOUND
    # Abandoned threads of other tests live on; this step's name is its own.
    while not step_thread_alive("held") and time.monotonic() < end:
        time.sleep(0.05)
    assert "requested" in ops(path, box).request("terminate").message
    runner.join(timeout=BOUND)  # the step's own deadline is 600 s away
    assert results and results[0].phase == "terminated"
    step = results[0].steps["held"]
    assert step["reason"] == "Terminate" and "thread was abandoned" in step["message"]
