"""The runner on the sandbox: graph order, conditions, failures, timeouts, state, lifecycle."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._workflow.events import Recorder
from pyvela._workflow.state import control_ref, state_ref
from pyvela.errors import LockedError, OwnershipError, StateError
from tests.runner_helpers import ops_for, sandbox

WriteApp = Callable[..., Path]
HEADER = """
from platform_defs import apply_base, apply_helm, apply_proxy, base_service, helm, ingress, proxy_service
from tests.sample_defs import echo, explode, make_configmap, noop, pause, post_then_wait, wait_for_configmap
from pyvela import Application, StepGroup, Workflow
"""


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    sb = sandbox(tmp_path / "sb")
    yield sb  # type: ignore[misc]
    sb.close()


def test_seed_workflow_succeeds_and_wires_backend_ip(box: Sandbox) -> None:
    events = Recorder()
    result = ops_for("apps/lixiang.py", box, events=events).deploy()
    assert result.phase == "succeeded", result.to_dict()
    assert [s["phase"] for s in result.steps.values()] == ["succeeded"] * 3
    cluster_ip = result.steps["apply-base-service"]["outputs"]["cluster_ip"]
    service = box.get(_ref("v1", "Service", "base-service"))
    assert service is not None and service["spec"]["clusterIP"] == cluster_ip
    rollout = box.get(_ref("argoproj.io/v1alpha1", "Rollout", "proxy-service"))
    assert rollout is not None
    env = {e["name"]: e.get("value") for e in rollout["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["BackendIP"] == cluster_ip
    assert env["RUNTIME_CLUSTER"] == "default" and env["LOG_BASE"] == "/app/data/log"
    assert env["BACKEND_HOST"] == "base-service.dev.example.com"
    # The registration is published in the sandbox's config centre.
    registered = box.config_centre().read(_target())
    assert registered["base-service.clusterIP"] == cluster_ip
    # Progress saw the wait with replica counts.
    assert any("replicas ready" in e.message for e in events.of("waiting"))
    status = ops_for("apps/lixiang.py", box).status()
    proxy = next(o for o in status["objects"] if o["object"]["kind"] == "Rollout")
    assert proxy["live"]["containers"]["proxy-service"]["env"]["BackendIP"] == cluster_ip


def test_rerun_of_an_unchanged_app_is_a_fast_no_op(box: Sandbox) -> None:
    assert ops_for("apps/lixiang.py", box).deploy().ok
    before = box.get(state_ref("lixiang-app", "default"))
    start = time.monotonic()
    again = ops_for("apps/lixiang.py", box).deploy()
    assert again.up_to_date and again.ok and time.monotonic() - start < 2.0
    after = box.get(state_ref("lixiang-app", "default"))
    assert before is not None and after is not None
    assert before["metadata"]["resourceVersion"] == after["metadata"]["resourceVersion"]


def test_dag_runs_independent_steps_in_parallel(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(
        HEADER
        + """
a = echo("a", text="x")
b = wait_for_configmap("b", name="never", seconds=0.3).when("always")
c = wait_for_configmap("c", name="never2", seconds=0.3).when("always")
d = echo("d", text=a.outputs.value).after(b, c).when("always")
app = Application("par", components=[], workflow=Workflow(steps=[a, b, c, d], mode="DAG"))
"""
    )
    events = Recorder()
    start = time.monotonic()
    result = ops_for(path, box, events=events).deploy()
    took = time.monotonic() - start
    assert result.steps["b"]["phase"] == "failed" and result.steps["b"]["reason"] == "Timeout"
    assert result.steps["d"]["phase"] == "succeeded" and result.steps["d"]["outputs"] == {"value": "x"}
    assert took < 0.3 * 2  # b and c waited at the same time, not one after the other
    assert result.phase == "failed"


def test_failed_step_skips_dependants_unless_they_opt_in(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(
        HEADER
        + """
boom = explode("boom")
after = noop("after")
cleanup = noop("cleanup").when("always")
app = Application("fails", components=[], workflow=[boom, after, cleanup])
"""
    )
    result = ops_for(path, box).deploy()
    steps = result.steps
    assert steps["boom"]["phase"] == "failed" and steps["boom"]["reason"] == "Error"
    assert "step raised ValueError: the step's own bug" in steps["boom"]["message"]
    assert "step 'boom'" in steps["boom"]["message"]
    assert "sample_defs.py" in steps["boom"]["message"]  # where the user's code raised
    assert "ValueError" in steps["boom"]["traceback"] and "raise ValueError" in steps["boom"]["traceback"]
    assert steps["after"]["phase"] == "skipped" and "DependencyNotSucceeded" in steps["after"]["reason"]
    assert steps["cleanup"]["phase"] == "succeeded"
    assert result.phase == "failed"


def test_step_timeout_is_enforced(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(
        HEADER
        + """
w = wait_for_configmap("w", name="never").with_timeout(0.2)
app = Application("slow", components=[], workflow=[w])
"""
    )
    result = ops_for(path, box).deploy()
    assert result.steps["w"]["phase"] == "failed"
    assert result.steps["w"]["reason"] == "Timeout"
    assert "waiting for the ConfigMap" in result.steps["w"]["message"]


def test_component_that_never_becomes_ready_fails_fast(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(
        HEADER
        + """
b = base_service("base-service", image="registry/never:does-not-exist", cluster="c").with_traits(
    ingress(domain="d", http={"/": 11223}))
app = Application("broken", components=[b], workflow=[apply_base("s", component="base-service")])
"""
    )
    ops = ops_for(path, box)
    use = ops.loaded.app.components[0]
    # The seed template keeps Kubernetes' default progress deadline (600 s); a deployment
    # that says 1 s must fail as soon as the deadline passes, not at the step timeout.
    import attrs

    from pyvela import set_env  # noqa: F401  (the patch below is by field, as a trait would do)

    patched = attrs.evolve(use.definition, render=_with_deadline(use.definition.render))
    object.__setattr__(ops.loaded.app, "components", (attrs.evolve(use, definition=patched),))
    start = time.monotonic()
    result = ops.deploy()
    assert result.steps["s"]["phase"] == "failed"
    assert result.steps["s"]["reason"] == "NotReadyError"
    assert "ProgressDeadlineExceeded" in result.steps["s"]["message"]
    assert time.monotonic() - start < 20


def _with_deadline(render):  # type: ignore[no-untyped-def]
    def wrapped(p, ctx):  # type: ignore[no-untyped-def]
        obj = render(p, ctx)
        obj["spec"]["progressDeadlineSeconds"] = 1
        return obj

    return wrapped


def test_concurrent_deploys_refuse_clearly(box: Sandbox, tmp_path: Path) -> None:
    from pyvela._workflow.state import AppLock

    holder = AppLock(box, "lixiang-app", "default")
    holder.acquire()
    try:
        with pytest.raises(LockedError, match="another pyvela run") as info:
            ops_for("apps/lixiang.py", box).deploy()
        assert "--wait-lock" in (info.value.fix or "")
    finally:
        holder.release()
    assert ops_for("apps/lixiang.py", box).deploy().ok


def test_lock_of_a_dead_process_is_taken_over(box: Sandbox) -> None:
    body = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "pyvela-lock.lixiang-app", "namespace": "default"},
        "spec": {
            "holderIdentity": f"{__import__('socket').gethostname()}:999999:dead",
            "leaseDurationSeconds": 30,
            "renewTime": __import__("pyvela._workflow.state", fromlist=["now_iso"]).now_iso(),
        },
    }
    box.create(body)
    assert ops_for("apps/lixiang.py", box).deploy().ok


def test_foreign_or_corrupt_state_is_refused_never_overwritten(box: Sandbox) -> None:
    foreign = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": "pyvela-app.lixiang-app", "namespace": "default"},
        "data": {"x": "eQ=="},
    }
    box.create(foreign)
    with pytest.raises(StateError, match="not a pyvela state record"):
        ops_for("apps/lixiang.py", box).deploy()
    live = box.get(state_ref("lixiang-app", "default"))
    assert live is not None and live["data"] == {"x": "eQ=="}
    live["type"] = "pyvela.dev/app-state"
    live["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "pyvela"}
    live["data"] = {"state": "bm90IGd6aXA="}
    box.delete(state_ref("lixiang-app", "default"))
    live["metadata"].pop("resourceVersion", None)
    box.create(live)
    with pytest.raises(StateError, match="corrupt"):
        ops_for("apps/lixiang.py", box).deploy()


def test_unowned_object_in_the_way_stops_the_deploy(box: Sandbox) -> None:
    box.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "base-service", "namespace": "default"},
            "spec": {"ports": [{"port": 80}]},
        }
    )
    result = ops_for("apps/lixiang.py", box).deploy()
    assert result.steps["apply-base-service"]["phase"] == "failed"
    assert "not owned by app 'lixiang-app'" in result.steps["apply-base-service"]["message"]
    live = box.get(_ref("v1", "Service", "base-service"))
    assert live is not None and "app.oam.dev/name" not in (live["metadata"].get("labels") or {})
    assert OwnershipError.__name__ == result.steps["apply-base-service"]["reason"]


def test_suspend_resume_and_restart(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(
        HEADER
        + """
steps = [noop("first"), pause("gate"), echo("last", text="done")]
app = Application("pausing", components=[], workflow=steps)
"""
    )
    first = ops_for(path, box).deploy()
    assert first.phase == "suspended" and first.steps["gate"]["phase"] == "suspending"
    assert first.steps["last"]["phase"] == "pending"
    assert "workflow resume" in ops_for(path, box).deploy().message
    resumed = ops_for(path, box).resume()
    assert resumed.ok and resumed.steps["last"]["outputs"] == {"value": "done"}
    restarted = ops_for(path, box).restart("last")
    assert (
        restarted.ok
        and restarted.steps["first"]["attempts"] == 1
        and restarted.steps["last"]["attempts"] == 2
    )


def test_terminate_a_running_workflow_from_another_thread(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(
        HEADER
        + """
app = Application("long", components=[], workflow=[wait_for_configmap("w", name="never"), noop("n")])
"""
    )
    results: list = []
    seen = Recorder()
    t = threading.Thread(target=lambda: results.append(ops_for(path, box, events=seen).deploy()))
    t.start()
    deadline = time.monotonic() + 60  # the deploy holds the lock once its first step waits
    while not any(e.step == "w" for e in seen.of("waiting")) and time.monotonic() < deadline:
        time.sleep(0.02)
    requested = ops_for(path, box).request("terminate")
    assert "requested" in requested.message
    t.join(timeout=20)
    assert results and results[0].phase == "terminated"
    assert results[0].steps["w"]["reason"] == "Terminate" and results[0].steps["n"]["phase"] == "skipped"


def test_new_revision_prunes_removed_objects_history_and_rollback(write_app: WriteApp, box: Sandbox) -> None:
    v1 = write_app(
        HEADER
        + """
steps = [make_configmap("one", name="one"), make_configmap("two", name="two")]
app = Application("pr", components=[], workflow=steps)
""",
        name="pr.py",
    )
    assert ops_for(v1, box).deploy().ok
    v2 = write_app(
        HEADER
        + """
app = Application("pr", components=[], workflow=[make_configmap("one", name="one")])
""",
        name="pr.py",
    )
    second = ops_for(v2, box).deploy()
    assert second.ok and second.revision == 2 and second.pruned == ("ConfigMap default/two",)
    assert box.get(_ref("v1", "ConfigMap", "two")) is None
    history = ops_for(v2, box).history()
    assert [(h["number"], h["phase"]) for h in history] == [(1, "succeeded"), (2, "succeeded")]
    back = ops_for(v2, box).rollback(1)
    assert back.ok and back.revision == 3
    assert box.get(_ref("v1", "ConfigMap", "two")) is not None
    deleted = ops_for(v2, box).delete()
    assert deleted.phase == "deleted"
    assert box.get(_ref("v1", "ConfigMap", "one")) is None and box.get(_ref("v1", "ConfigMap", "two")) is None
    assert box.get(state_ref("pr", "default")) is None


def _ref(api: str, kind: str, name: str):  # type: ignore[no-untyped-def]
    from pyvela import ObjectRef

    return ObjectRef(api, kind, "default", name)


def _target():  # type: ignore[no-untyped-def]
    from pyvela._configcentre.protocol import ConfigTarget

    return ConfigTarget(app_id="lixiang-app", cluster="default")


def test_when_predicates_see_phases_and_outputs(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(
        HEADER
        + """
a = echo("a", text="blue")
boom = explode("boom").after(a)
on_blue = noop("on-blue").after(a).when(lambda wf: wf.output(a.outputs.value) == "blue")
on_red = noop("on-red").after(a).when(lambda wf: wf.output(a.outputs.value) == "red")
on_failure = noop("on-failure").after(boom).when(lambda wf: wf.phase(boom) == "failed")
steps = [a, boom, on_blue, on_red, on_failure]
app = Application("cond", components=[], workflow=Workflow(steps=steps, mode="DAG"))
"""
    )
    steps = ops_for(path, box).deploy().steps
    assert steps["on-blue"]["phase"] == "succeeded"
    assert steps["on-red"]["phase"] == "skipped" and steps["on-red"]["reason"] == "ConditionNotMet"
    assert steps["on-failure"]["phase"] == "succeeded"


def test_a_condition_that_raises_fails_its_step_at_the_condition_line(
    write_app: WriteApp, box: Sandbox
) -> None:
    path = write_app(
        HEADER
        + """
a = echo("a", text="blue")
b = noop("b").after(a).when(lambda wf: 1 / 0 > wf.output(a.outputs.value))
app = Application("raising", components=[], workflow=[a, b])
"""
    )
    result = ops_for(path, box).deploy()
    assert not result.ok and result.phase == "failed"
    step = result.steps["b"]
    assert step["phase"] == "failed" and step["reason"] == "ConditionError"
    assert "ZeroDivisionError" in step["message"] and f"{path}:" in step["message"]


def test_suspend_a_running_workflow_then_resume(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(
        HEADER
        + """
app = Application("susp", components=[], workflow=[wait_for_configmap("w", name="go"), noop("n")])
"""
    )
    results: list = []  # type: ignore[type-arg]
    seen = Recorder()
    t = threading.Thread(target=lambda: results.append(ops_for(path, box, events=seen).deploy()))
    t.start()
    deadline = time.monotonic() + 60  # the deploy holds the lock once its first step waits
    while not any(e.step == "w" for e in seen.of("waiting")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "requested" in ops_for(path, box).request("suspend").message
    # The run takes the request when its watcher removes it: only then is the step let go, or
    # (under load) the workflow could finish before the request reached it.
    deadline = time.monotonic() + 60
    while box.get(control_ref("susp", "default")) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    box.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "go", "namespace": "default"}})
    t.join(timeout=20)
    assert results and results[0].phase == "suspended"
    assert results[0].steps["w"]["phase"] == "succeeded" and results[0].steps["n"]["phase"] == "pending"
    resumed = ops_for(path, box).resume()
    assert resumed.ok and resumed.steps["n"]["phase"] == "succeeded"


def test_a_broken_definitions_module_is_one_clear_error(write_app: WriteApp, box: Sandbox) -> None:
    from pyvela import load_app
    from pyvela.errors import DefinitionError

    path = write_app(HEADER + 'app = Application("x", components=[])\n')
    with pytest.raises(DefinitionError, match="cannot import definitions module 'no_such_defs'"):
        load_app(path, defs=["no_such_defs"])


def test_golden_update_is_refused_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pyvela.testing import assert_golden

    monkeypatch.setenv("PYVELA_UPDATE_GOLDEN", "1")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(AssertionError, match="refusing to update golden files under CI"):
        assert_golden("apps/lixiang.py", tmp_path / "g.yaml")
    assert not (tmp_path / "g.yaml").exists()


def test_namespace_override_moves_objects_and_state(box: Sandbox) -> None:
    from pyvela import ObjectRef

    loaded_ops = ops_for("apps/lixiang.py", box)
    from pyvela._workflow.lifecycle import AppOps

    ops = AppOps(
        box,
        loaded_ops.loaded,
        events=Recorder(),
        config_centre=loaded_ops.config_centre,
        config=loaded_ops.config,
        namespace="team-a",
        options=loaded_ops.options,
    )
    assert ops.deploy().ok
    assert box.get(ObjectRef("apps/v1", "Deployment", "team-a", "base-service")) is not None
    assert box.get(ObjectRef("apps/v1", "Deployment", "default", "base-service")) is None
    assert box.get(state_ref("lixiang-app", "team-a")) is not None
    namespace = box.get(ObjectRef("v1", "Namespace", "", "team-a"))
    assert namespace is not None


class _Flaky(http.server.BaseHTTPRequestHandler):
    answers: list[int] = []
    seen: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Flaky.seen.append(self.path)
        status = _Flaky.answers.pop(0) if _Flaky.answers else 201
        body = b"ok" if status < 300 else b"busy"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky() -> Iterator[str]:
    _Flaky.answers, _Flaky.seen = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_transient_http_errors_are_retried_then_fail_after_retries(
    write_app: WriteApp, box: Sandbox, flaky: str
) -> None:
    path = write_app(
        HEADER + f'from tests.sample_defs import call\napp = Application("h", components=[], '
        f'workflow=[call("c", url="{flaky}")])\n'
    )
    _Flaky.answers = [503, 429]
    result = ops_for(path, box).deploy()
    assert result.ok and result.steps["c"]["outputs"] == {"value": "201 ok"}
    assert len(_Flaky.seen) == 3
    _Flaky.answers, _Flaky.seen = [503] * 10, []
    failing = write_app(
        HEADER + f'from tests.sample_defs import call\napp = Application("h2", components=[], '
        f'workflow=[call("c", url="{flaky}")])\n',
        name="h2.py",
    )
    step = ops_for(failing, box, retries=2).deploy().steps["c"]
    assert step["phase"] == "failed" and step["reason"] == "FailedAfterRetries"
    assert "failed after 3 attempt(s)" in step["message"] and len(_Flaky.seen) == 3


def test_read_list_delete_and_timed_suspend_actions(write_app: WriteApp, box: Sandbox) -> None:
    path = write_app(
        HEADER + "from tests.sample_defs import objects\n"
        'app = Application("objs", components=[], workflow=[objects("o", name="cm")])\n'
    )
    result = ops_for(path, box).deploy()
    assert result.ok, result.steps
    assert result.steps["o"]["outputs"] == {"value": "{'k': 'v'} cm True None"}


def test_rollback_defaults_to_the_previous_success_and_wait_lock_waits(
    write_app: WriteApp, box: Sandbox
) -> None:
    from pyvela._workflow.state import AppLock

    v1 = write_app(
        HEADER + 'app = Application("rb", components=[], workflow=[make_configmap("a", name="a")])\n',
        name="rb.py",
    )
    assert ops_for(v1, box).deploy().ok
    v2 = write_app(
        HEADER + 'app = Application("rb", components=[], workflow=[make_configmap("b", name="b")])\n',
        name="rb.py",
    )
    assert ops_for(v2, box).deploy().ok
    assert box.get(_ref("v1", "ConfigMap", "a")) is None
    back = ops_for(v2, box).rollback()
    assert back.ok and box.get(_ref("v1", "ConfigMap", "a")) is not None
    assert box.get(_ref("v1", "ConfigMap", "b")) is None  # pruned: not in revision 1
    holder = AppLock(box, "rb", "default")
    holder.acquire()
    threading.Timer(0.5, holder.release).start()
    start = time.monotonic()
    assert ops_for(v2, box, wait_lock=10.0).deploy().ok
    assert time.monotonic() - start >= 0.4
