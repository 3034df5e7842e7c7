"""The dashboard in a real headless Chromium: the seed after a sandbox deploy, and a running
deploy followed live (server-sent events) while the page stays open."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._workflow.results import RunResult
from tests.conftest import ROOT
from tests.runner_helpers import ops_for, sandbox
from tests.ui.browser import browser_paths, chromium, dashboard, screenshot

WAIT = 60.0  # generous: the machine is shared, and a wait ends as soon as its condition holds


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    browser_paths()
    with chromium() as b:
        yield b


def wait_for(browser: Any, condition: Callable[[Any], Any], what: str, timeout: float = WAIT) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(browser, timeout, poll_frequency=0.1).until(condition)
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None


def phase_of(browser: Any, step: str) -> str:
    return str(
        browser.execute_script(
            "var n = document.getElementById('step-' + arguments[0]);"
            "return n ? (n.getAttribute('class') || '') : '';",
            step,
        )
    )


def has_phase(step: str, phase: str) -> Callable[[Any], bool]:
    return lambda b: f"phase-{phase}" in phase_of(b, step).split()


def test_the_seed_after_a_sandbox_deploy(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    backend = sandbox(tmp_path / "sb")
    result = ops_for(ROOT / "apps" / "lixiang.py", backend).deploy()
    assert result.ok, result.to_dict()
    base_ip = result.to_dict()["steps"]["apply-base-service"]["outputs"]["cluster_ip"]
    reader = sandbox(tmp_path / "sb")  # the dashboard's own handle, as `pyvela ui` opens it
    try:
        with dashboard(reader) as url:
            browser.get(url + "/")
            link = wait_for(browser, lambda b: b.find_element(By.LINK_TEXT, "lixiang-app"), "the app's row")
            assert (
                "succeeded" in browser.find_element(By.CSS_SELECTOR, '#apps tr[data-app="lixiang-app"]').text
            )
            link.click()
            wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#graph svg"), "the graph")
            succeeded = browser.find_elements(By.CSS_SELECTOR, "#graph svg g.node.phase-succeeded")
            assert sorted(e.get_attribute("id") for e in succeeded) == [
                "step-apply-base-service",
                "step-apply-proxy-service",
                "step-apply-redis",
            ]
            graph_text = browser.find_element(By.ID, "graph").text
            # The BackendIP reference: base-service's ClusterIP into the proxy's backend_ip.
            assert "cluster_ip → backend_ip" in graph_text
            edge = browser.find_element(By.ID, "edge-apply-base-service-apply-proxy-service")
            assert "cluster_ip → backend_ip" in edge.text
            proxy = browser.find_element(By.CSS_SELECTOR, '#steps tr[data-step="apply-proxy-service"]')
            assert f'"backend_ip":"{base_ip}"' in proxy.text.replace(" ", "")
            components = [
                e.get_attribute("data-component")
                for e in browser.find_elements(By.CSS_SELECTOR, ".component")
            ]
            assert {"base-service", "redis", "proxy-service"} <= set(components)
            base = browser.find_element(By.CSS_SELECTOR, '.component[data-component="base-service"]')
            assert "not ready" not in base.text and "ready" in base.text
            proxy_objects = browser.find_element(
                By.CSS_SELECTOR, '.component[data-component="proxy-service"]'
            )
            assert f'"BackendIP": "{base_ip}"' in proxy_objects.text  # the Rollout's env, as applied
            assert browser.find_element(By.ID, "history").text.count("succeeded") == 1
            shot = screenshot(browser, "dashboard-seed", tmp_path)
            assert shot.stat().st_size > 10_000  # a drawn page, not a blank one
    finally:
        reader.close()
        backend.close()


APP = """
from pyvela import Application
from tests.sample_defs import echo, wait_for_configmap

app = Application(
    "live-app",
    components=[],
    workflow=[
        echo("first", text="hello"),
        wait_for_configmap("gate-one", name="go-one"),
        wait_for_configmap("gate-two", name="go-two"),
        echo("last", text="done"),
    ],
)
"""


@pytest.mark.parametrize("drawn", ["svg", "html"])
def test_a_running_deploy_is_followed_live(
    browser: Any, tmp_path: Path, drawn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from selenium.webdriver.common.by import By

    from pyvela._ui import drawing

    if drawn == "html":  # no Graphviz: the layered HTML drawing is recoloured the same way
        monkeypatch.setattr(drawing, "graphviz_available", lambda: False)

    path = tmp_path / "live_app.py"
    path.write_text(APP)
    backend = sandbox(tmp_path / "sb")
    ops = ops_for(path, backend)
    outcome: list[RunResult | BaseException] = []

    def run() -> None:
        try:
            outcome.append(ops.deploy())
        except BaseException as exc:  # the test reports it; a thread's exception would be lost
            outcome.append(exc)

    deploy = threading.Thread(target=run, name="deploy", daemon=True)
    deploy.start()
    reader = sandbox(tmp_path / "sb")
    try:
        with dashboard(reader) as url:
            # The page is opened while gate-one waits: the run is in progress from the start.
            _wait_until(lambda: _step_phase(reader, "gate-one") == "running", "gate-one to run")
            browser.get(url + "/apps/default/live-app")
            wait_for(browser, has_phase("gate-one", "running"), "gate-one shown running")
            assert bool(browser.find_elements(By.CSS_SELECTOR, "#graph svg")) == (drawn == "svg")
            assert "phase-succeeded" in phase_of(browser, "first")
            assert "phase-pending" in phase_of(browser, "gate-two")
            assert browser.find_element(By.ID, "run-phase").text == "running"
            browser.execute_script("window.pyvelaSamePage = true;")  # gone if the page reloads

            backend.create(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "go-one", "namespace": "default"},
                }
            )
            wait_for(browser, has_phase("gate-one", "succeeded"), "gate-one shown succeeded")
            wait_for(browser, has_phase("gate-two", "running"), "gate-two shown running")
            assert browser.execute_script("return window.pyvelaSamePage === true;"), "the page reloaded"
            row = browser.find_element(By.CSS_SELECTOR, '#steps tr[data-step="gate-one"]')
            assert "succeeded" in row.text
            gate = browser.find_element(By.ID, "step-gate-one")
            assert "succeeded" in gate.text  # the phase written in the node, not only its colour
            screenshot(browser, f"dashboard-live-running-{drawn}", tmp_path)

            backend.create(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "go-two", "namespace": "default"},
                }
            )
            wait_for(browser, has_phase("last", "succeeded"), "the last step shown succeeded")
            wait_for(
                browser, lambda b: b.find_element(By.ID, "run-phase").text == "succeeded", "the run succeeded"
            )
            assert 'value":"done' in browser.find_element(
                By.CSS_SELECTOR, '#steps tr[data-step="last"]'
            ).text.replace(" ", "")
    finally:
        deploy.join(timeout=WAIT)
        reader.close()
        backend.close()
    assert outcome and isinstance(outcome[0], RunResult) and outcome[0].ok, outcome


def _step_phase(backend: Any, step: str) -> str | None:
    from pyvela._ui.queries import snapshot

    try:
        return (snapshot(backend, "default", "live-app")["steps"].get(step) or {}).get("phase")
    except Exception:
        return None  # not recorded yet


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
