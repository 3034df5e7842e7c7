"""suspend, step-group, depends-on-app, print-message-in-status and restart-workflow on the sandbox
through the real runner; the catalogue's answer for KubeVela's step types pyvela refuses.

They follow KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/<name>.cue
(restart-workflow: a later KubeVela's step, see docs/migrating-from-kubevela.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pyvela import StepGroup, parse_duration
from pyvela import stdlib as s
from pyvela._app.catalogue import Catalogue
from pyvela._backends.sandbox import Sandbox
from pyvela.errors import ParameterError, UnknownDefinitionError
from tests.runner_helpers import ops_for, sandbox

WriteApp = Callable[..., Path]
HEADER = """
from pyvela import Application
from pyvela.stdlib import *
from tests.sample_defs import explode, noop
"""


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sb = sandbox(tmp_path / "sb")
    yield sb
    sb.close()


def app_file(
    write_app: WriteApp, name: str, steps: str, *, file: str | None = None, ns: str = "flow"
) -> Path:
    source = HEADER + f'app = Application("{name}", namespace="{ns}", components=[], workflow=[{steps}])\n'
    return write_app(source, file or f"{name}.py")


def logs(result: Any, step: str) -> list[str]:
    return [line["message"] for line in result.steps[step].get("logs") or []]


def test_suspend_waits_for_resume_and_shows_its_message(write_app: WriteApp, box: Sandbox) -> None:
    path = app_file(write_app, "gate", 'suspend("hold", message="approve the rollout"), noop("after")')
    first = ops_for(path, box).deploy()
    assert first.phase == "suspended" and first.steps["hold"]["phase"] == "suspending"
    status = ops_for(path, box).status()
    assert [line["message"] for line in status["steps"]["hold"]["logs"]] == ["approve the rollout"]
    resumed = ops_for(path, box).resume()
    assert resumed.ok and resumed.steps["after"]["phase"] == "succeeded"
    assert logs(resumed, "hold") == ["approve the rollout"]  # not logged twice by the replay


def test_suspend_with_a_duration_resumes_by_itself(write_app: WriteApp, box: Sandbox) -> None:
    path = app_file(write_app, "nap", 'suspend("nap", duration="10ms"), noop("after")')
    result = ops_for(path, box).deploy()
    assert result.ok, result.to_dict()


def test_print_message_in_status_shows_in_pyvela_status(write_app: WriteApp, box: Sandbox) -> None:
    path = app_file(write_app, "say", 'print_message_in_status("note", message="database migrated to v42")')
    assert ops_for(path, box).deploy().ok
    status = ops_for(path, box).status()
    assert [line["message"] for line in status["steps"]["note"]["logs"]] == ["database migrated to v42"]


def test_depends_on_app_waits_for_another_app_to_succeed(write_app: WriteApp, box: Sandbox) -> None:
    base = app_file(write_app, "base", 'noop("ready")')
    dependant = app_file(write_app, "front", 'depends_on_app("need-base", name="base"), noop("go")')
    absent = ops_for(dependant, box).deploy()
    assert absent.phase == "failed"
    message = absent.steps["need-base"]["message"]
    assert "app flow/base is not deployed" in message and "pyvela deploy" in message
    assert ops_for(base, box).deploy().ok
    after = ops_for(dependant, box).deploy()
    assert after.ok, after.to_dict()
    assert logs(after, "need-base") == ["app flow/base revision 1 has succeeded"]


def test_depends_on_app_refuses_to_wait_for_itself(write_app: WriteApp, box: Sandbox) -> None:
    result = ops_for(app_file(write_app, "selfish", 'depends_on_app("me", name="selfish")'), box).deploy()
    assert result.phase == "failed"
    assert "app flow/selfish cannot wait for itself" in result.steps["me"]["message"]


def test_depends_on_app_fails_at_once_on_a_failed_app(write_app: WriteApp, box: Sandbox) -> None:
    broken = app_file(write_app, "broken", 'explode("boom")', ns="other")
    assert ops_for(broken, box).deploy().phase == "failed"
    dependant = app_file(write_app, "front", 'depends_on_app("need", name="broken", namespace="other")')
    result = ops_for(dependant, box).deploy()
    assert result.phase == "failed"
    message = result.steps["need"]["message"]
    assert "app other/broken revision 1 failed" in message and "deploy app other/broken again" in message


def test_step_group_is_pyvelas_step_group(write_app: WriteApp, box: Sandbox) -> None:
    path = app_file(
        write_app,
        "grouped",
        'step_group(name="both", steps=[noop("a"), print_message_in_status("b", message="hi")]),'
        ' noop("last")',
    )
    result = ops_for(path, box).deploy()
    assert result.ok and set(result.steps) == {"a", "b", "last"}, result.to_dict()  # groups are flattened
    assert s.step_group is StepGroup


def test_restart_workflow_records_when_to_run_again(write_app: WriteApp, box: Sandbox) -> None:
    path = app_file(
        write_app,
        "again",
        'restart_workflow("at", at="2030-01-02T03:04:05+08:00"), restart_workflow("every", every="1h")',
    )
    before = datetime.now(UTC)
    result = ops_for(path, box).deploy()
    assert result.ok, result.to_dict()
    assert result.steps["at"]["outputs"] == {"restart_at": "2030-01-01T19:04:05Z"}
    every = datetime.fromisoformat(result.steps["every"]["outputs"]["restart_at"])
    assert before + timedelta(minutes=59) < every < before + timedelta(hours=2)
    assert (
        "pyvela workflow restart" in logs(result, "every")[0] and "then every 1h" in logs(result, "every")[0]
    )
    status = ops_for(path, box).status()
    assert status["steps"]["at"]["outputs"]["restart_at"] == "2030-01-01T19:04:05Z"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("1m30s", 90.0), ("1.5h", 5400.0), ("500ms", 0.5), ("2h15m", 8100.0), ("0", 0.0)],
)
def test_durations_read_as_go_reads_them(text: str, seconds: float) -> None:
    assert parse_duration(text, "duration") == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: s.suspend("s", duration="1min"), "is not a duration"),
        (lambda: s.suspend("s", duration="soon"), "is not a duration"),
        (lambda: s.suspend("s", duration=30), "duration"),  # type: ignore[arg-type]
        (lambda: s.suspend("s", message=1), "message"),  # type: ignore[arg-type]
        (lambda: s.depends_on_app("d"), "name"),  # type: ignore[call-arg]
        (lambda: s.depends_on_app("d", name="x", namespace=2), "namespace"),  # type: ignore[arg-type]
        (lambda: s.print_message_in_status("p"), "message"),  # type: ignore[call-arg]
        (lambda: s.restart_workflow("r"), "give exactly one of at, after and every (got none)"),
        (lambda: s.restart_workflow("r", after="1m", every="1h"), "(got after, every)"),
        (lambda: s.restart_workflow("r", at="tomorrow"), "is not an RFC 3339 time"),
        (lambda: s.restart_workflow("r", at="2030-01-01T00:00:00"), "has no time zone"),
        (lambda: s.restart_workflow("r", every="0s"), "must be longer than zero"),
        (lambda: s.restart_workflow("r", after="5 minutes"), "is not a duration"),
    ],
)
def test_parameters_are_checked_at_the_call_site(make: Callable[[], Any], words: str) -> None:
    with pytest.raises(ParameterError) as err:
        make()
    assert words in str(err.value)


def test_the_catalogue_names_step_types_as_a_yaml_app_does() -> None:
    catalogue = Catalogue.from_modules([], stdlib=True)
    assert catalogue.step_type("step-group") is StepGroup
    assert catalogue.step_type("export2secret") is s.export2secret
    assert catalogue.step_type("apply-component").name == "apply-component"  # type: ignore[union-attr]
    with pytest.raises(UnknownDefinitionError) as unknown:
        catalogue.step_type("apply-objekt")
    assert "apply-object" in (unknown.value.expected or "")


@pytest.mark.parametrize("name", sorted(s.UNSUPPORTED_STEPS))
def test_kubevela_steps_pyvela_refuses_say_why(name: str) -> None:
    with pytest.raises(UnknownDefinitionError) as err:
        Catalogue.from_modules([], stdlib=True).step_type(name, step="s1")
    assert f"step type {name!r} is not supported, because " in err.value.message
    assert err.value.context.get("step") == "s1"


def test_the_refused_steps_are_the_ones_kubevela_ships() -> None:
    assert {"build-push-image", "check-metrics", "vela-cli", "apply-terraform-config"} <= set(
        s.UNSUPPORTED_STEPS
    )
    assert {"deploy-cloud-resource", "share-cloud-resource", "apply-terraform-provider"} <= set(
        s.UNSUPPORTED_STEPS
    )
