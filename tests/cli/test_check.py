"""``pyvela check`` (text, -o json, --junit parsed back, exit codes) and the guardrails of
``render`` and ``diff`` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.conftest import ROOT

ON = ["--defs", "tests.guardrail_defs", "--defs", "pyvela.stdlib.guardrails"]
BAD = """
from pyvela import Application, Waiver, waive_checks
from tests.guardrail_defs import guarded, route

web = guarded("web", image="nginx:latest").with_traits(route(service="web"))
api = guarded("api", image="api", privileged=True)
app = Application("shop", components=[web, api], policies=[
    waive_checks("legacy", waivers=(Waiver(check="image-pinned", components=("api",), reason="JIRA-7"),)),
])
"""
GOOD = """
from pyvela import Application
from tests.guardrail_defs import guarded, route

app = Application("good", components=[guarded("web", team="none").with_traits(route(service="web"))])
"""


def pyvela(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyvela", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYVELA_DEFS": ""},
    )


def test_check_json_and_junit_for_two_apps(write_app: Callable[..., Path], tmp_path: Path) -> None:
    bad, good = write_app(BAD, "bad.py"), write_app(GOOD, "good.py")
    junit = tmp_path / "reports" / "guardrails.xml"
    out = pyvela("check", str(bad), str(good), *ON, "-o", "json", "--junit", str(junit))
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert data["ok"] is False
    first, second = data["apps"]
    assert first["app"] == "shop" and first["ok"] is False and second["ok"] is True
    assert first["counts"] == {"checks": 7, "cases": 13, "errors": 2, "warnings": 0, "waived": 1}
    by_rule = {(f["check"], f["object"]): f for f in first["findings"]}
    pinned = by_rule[("image-pinned", "Deployment default/web")]
    assert pinned["where"] == f"{bad}:4" and pinned["severity"] == "error" and "fix" in pinned
    assert by_rule[("no-privileged", "Deployment default/api")]["where"] == f"{bad}:5"
    assert by_rule[("image-pinned", "Deployment default/api")]["waived"] == "JIRA-7"

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("failures") == "2" and root.get("skipped") == "1"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    cases = {(c.get("classname"), c.get("name")): c for c in suites["shop"].iter("testcase")}
    assert int(root.get("tests") or 0) == sum(1 for _ in root.iter("testcase")) == 13 + 7
    failed = cases[("pyvela.shop.image-pinned", "web: Deployment default/web")]
    failure = failed.find("failure")
    assert failure is not None and failure.get("type") == "image-pinned"
    assert failed.get("file") == str(bad) and failed.get("line") == "4"
    assert "nginx:latest" in (failure.text or "")
    skipped = cases[("pyvela.shop.image-pinned", "api: Deployment default/api")].find("skipped")
    assert skipped is not None and skipped.get("message") == "waived: JIRA-7"
    passed = cases[("pyvela.shop.ingress-backends-exist", "web: Ingress default/web")]
    assert list(passed) == [] and passed.get("line") == "4"  # a passing case names its line too
    assert suites["good"].get("failures") == "0"


def test_check_text_exit_codes(write_app: Callable[..., Path]) -> None:
    bad, good = write_app(BAD, "bad.py"), write_app(GOOD, "good.py")
    out = pyvela("check", str(bad), *ON)
    assert out.returncode == 1
    assert f"{bad}:4: error: component 'web': Deployment default/web: image-pinned:" in out.stdout
    assert "    fix: pin it by version or digest" in out.stdout
    assert f"{bad}:5: waived: component 'api'" in out.stdout
    assert (
        "app 'shop' fails 2 of 7 check(s), 13 case(s) (rule x object): 2 error(s), 0 warning(s), 1 waived"
        in out.stdout
    )
    ok = pyvela("check", str(good), *ON)
    assert ok.returncode == 0, ok.stdout  # warnings do not fail it
    assert f"{good}:4: warning: component 'web': Deployment default/web: team-label:" in ok.stdout
    none = pyvela("check", str(good), "--defs", "tests.guardrail_defs", "--defs", "platform_defs")
    assert none.returncode == 0 and "passes 1 check(s), " in none.stdout  # only the platform's own
    missing = pyvela("check", str(good.parent / "nope.py"), *ON)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    broken = write_app("import nowhere_to_be_found\n", "broken.py")
    assert pyvela("check", str(broken), *ON).returncode == 2
    assert pyvela("check").returncode == 2  # usage


def test_render_prints_nothing_when_a_guardrail_fails(write_app: Callable[..., Path]) -> None:
    bad, good = write_app(BAD, "bad.py"), write_app(GOOD, "good.py")
    out = pyvela("render", str(bad), *ON)
    assert out.returncode == 1 and out.stdout == ""
    assert "error: " in out.stderr and "fails its guardrails: 2 error findings" in out.stderr
    assert f"{bad}:5: error: component 'api': Deployment default/api: no-privileged" in out.stderr
    assert "waived: component 'api'" in out.stderr  # what was let through is said too
    shown = pyvela("render", str(good), *ON)
    assert shown.returncode == 0, shown.stderr
    assert f"{good}:4: warning: component 'web': Deployment default/web: team-label" in shown.stderr
    assert [d["kind"] for d in yaml.safe_load_all(shown.stdout) if d] == ["Deployment", "Service", "Ingress"]
    as_json = pyvela("render", str(bad), *ON, "-o", "json", "--component", "api")
    assert as_json.returncode == 1 and as_json.stdout == ""
    report = json.loads(as_json.stderr[as_json.stderr.find("{") :])  # after the waived line
    assert report["error"] == "GuardrailError" and report["where"] == f"{bad}:5"
    assert [f["component"] for f in report["findings"]] == ["api"]


def test_diff_stops_before_comparing(write_app: Callable[..., Path], sandbox_dir: Path) -> None:
    out = pyvela("diff", str(write_app(BAD, "bad.py")), *ON)
    assert out.returncode == 2 and out.stdout == ""
    assert "nothing was compared" in out.stderr


def test_deploy_stops_and_status_shows_the_waivers(write_app: Callable[..., Path], sandbox_dir: Path) -> None:
    bad = write_app(BAD, "bad.py")
    out = pyvela("deploy", str(bad), *ON)
    assert out.returncode == 1 and "nothing was applied" in out.stderr
    assert f"{bad}:5: error: component 'api': Deployment default/api: no-privileged" in out.stderr
    fixed = write_app(
        BAD.replace('image="nginx:latest"', 'image="nginx:1.27"').replace(", privileged=True", "")
    )
    done = pyvela("deploy", str(fixed), *ON)
    assert done.returncode == 0, done.stderr
    assert "waived: check 'image-pinned' for component 'api' (1 finding): JIRA-7" in done.stdout
    status = pyvela("status", str(fixed), *ON)
    assert "waived: check 'image-pinned' for component 'api' (1 finding): JIRA-7" in status.stdout
