"""Guardrails in a deploy on the sandbox: an error finding stops it before anything is applied
(the sandbox's objects are the same after as before); a waived one is recorded in the
revision, shown by ``status`` and announced by the run."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._workflow.events import Recorder
from pyvela._workflow.state import StateStore
from pyvela.errors import GuardrailError
from tests.runner_helpers import ops_for, sandbox

ON = ["tests.guardrail_defs", "pyvela.stdlib.guardrails"]
APP = """
from pyvela import Application, Waiver, waive_checks
from tests.guardrail_defs import guarded, route

web = guarded("web").with_traits(route(service="web"))
api = guarded("api", image="{image}", probes=False)
app = Application("shop", components=[web, api], policies=[
    waive_checks("legacy", waivers=(
        Waiver(check="probes-set", components=("api",), reason="JIRA-9: no health endpoint yet"),
    )),
])
"""


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sb = sandbox(tmp_path / "sb")
    yield sb
    sb.close()


def objects(root: Path) -> set[tuple[str, str, str, int]]:
    """Every object the sandbox holds, with its resourceVersion."""
    with sqlite3.connect(f"file:{root / 'sandbox.db'}?mode=ro", uri=True) as db:
        return {(k, ns, n, rv) for k, ns, n, rv in db.execute("SELECT kind, ns, name, rv FROM objects")}


def test_an_error_finding_stops_the_deploy_with_nothing_applied(
    box: Sandbox, tmp_path: Path, write_app: Callable[[str], Path]
) -> None:
    before = objects(tmp_path / "sb")
    events = Recorder()
    with pytest.raises(GuardrailError) as caught:
        ops_for(write_app(APP.replace("{image}", "api:latest")), box, events=events, defs=ON).deploy()
    assert "nothing was applied" in caught.value.message
    assert caught.value.findings[0]["check"] == "image-pinned"
    assert caught.value.findings[0]["where"].endswith("app.py:5")
    assert objects(tmp_path / "sb") == before  # not an object created or changed, no lock left
    assert StateStore(box, "shop", "default").load() is None  # no revision either
    assert not events.of("applied") and not events.of("run-started")


def test_a_new_namespace_is_not_created_for_an_app_its_guardrails_stop(
    box: Sandbox, tmp_path: Path, write_app: Callable[[str], Path]
) -> None:
    source = APP.replace("{image}", "api:latest").replace("policies=[", 'namespace="fresh", policies=[')
    before = objects(tmp_path / "sb")
    with pytest.raises(GuardrailError):
        ops_for(write_app(source), box, defs=ON).deploy()
    assert objects(tmp_path / "sb") == before
    assert not any(ns == "fresh" or name == "fresh" for _kind, ns, name, _rv in before)


def test_a_waiver_is_recorded_in_the_revision_and_shown_by_status(
    box: Sandbox, write_app: Callable[[str], Path]
) -> None:
    path = write_app(APP.replace("{image}", "api:2.1"))
    events = Recorder()
    result = ops_for(path, box, events=events, defs=ON).deploy()
    assert result.phase == "succeeded", result.to_dict()
    record = StateStore(box, "shop", "default").load()
    assert record is not None
    guardrails = record["revisions"][-1]["guardrails"]
    assert guardrails["waived"] == [
        {"check": "probes-set", "component": "api", "reason": "JIRA-9: no health endpoint yet", "findings": 2}
    ]
    assert len(guardrails["checks"]) == 7 and guardrails["warning_count"] == 0
    status = ops_for(path, box, defs=ON).status()
    assert status["guardrails"]["waived"][0]["reason"] == "JIRA-9: no health endpoint yet"
    announced = [e.message for e in events.of("guardrail")]
    assert announced == [
        "waived: check 'probes-set' for component 'api' (2 findings): JIRA-9: no health endpoint yet"
    ]
