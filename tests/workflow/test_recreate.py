"""A workload field that cannot change: refused with the way out, or recreated as declared."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela import component
from pyvela._backends.sandbox import Sandbox
from pyvela._workflow.events import Recorder
from pyvela.errors import DefinitionError, ImmutableFieldError
from tests.job_defs import JOB, JobParams
from tests.runner_helpers import ops_for

WriteApp = Callable[..., Path]
APP = """
from pyvela import Application
from tests.job_defs import {kind}, apply_only

app = Application("jobs", components=[{kind}("migrate", image="{image}")],
                  workflow=[apply_only("apply", component="migrate")])
"""


def deploy(  # type: ignore[no-untyped-def]
    write_app: WriteApp, box: Sandbox, kind: str, image: str, events: Recorder | None = None
):
    path = write_app(APP.format(kind=kind, image=image))
    return ops_for(path, box, events=events or Recorder(), defs=["tests.job_defs"]).deploy()


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    from tests.runner_helpers import sandbox

    return sandbox(tmp_path / "sandbox")


def _job(box: Sandbox) -> dict:  # type: ignore[type-arg]
    from pyvela import ObjectRef

    live = box.get(ObjectRef("batch/v1", "Job", "default", "migrate"))
    assert live is not None
    return live


def test_a_changed_job_template_is_refused_with_the_way_out(write_app: WriteApp, box: Sandbox) -> None:
    assert deploy(write_app, box, "job", "migrate:1").ok
    result = deploy(write_app, box, "job", "migrate:2")
    assert not result.ok
    step = result.steps["apply"]
    assert step["reason"] == ImmutableFieldError.__name__ and "field is immutable" in step["message"]
    assert _job(box)["spec"]["template"]["spec"]["containers"][0]["image"] == "migrate:1"


def test_a_recreate_component_replaces_its_job(write_app: WriteApp, box: Sandbox) -> None:
    assert deploy(write_app, box, "recreated_job", "migrate:1").ok
    first = _job(box)["metadata"]["uid"]
    seen = Recorder()
    assert deploy(write_app, box, "recreated_job", "migrate:2", seen).ok
    job = _job(box)
    assert job["metadata"]["uid"] != first
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "migrate:2"
    [note] = seen.of("recreating")
    assert "cannot be updated in place" in note.message and "Job default/migrate" in note.message


def test_update_must_be_apply_or_recreate() -> None:
    with pytest.raises(DefinitionError, match="update must be 'apply' or 'recreate'"):
        component(name="bad", params=JobParams, workload=JOB, update="replace")(lambda p, ctx: {})  # type: ignore[arg-type]
