"""Guardrails over a loaded app: which checks are on, findings located at the app's lines,
waivers (Python and KubeVela YAML), and checks that are themselves broken."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest

from pyvela import CheckedObject, Finding, check
from pyvela._app.guardrails import GuardrailReport, enforce, evaluate, record_lines
from pyvela._app.loader import LoadedApp, load_app
from pyvela._app.render import render_app
from pyvela.errors import DanglingReferenceError, DefinitionError, GuardrailError, ParameterError

ON = ["tests.guardrail_defs", "pyvela.stdlib.guardrails"]
APP = """
from pyvela import Application, Waiver, waive_checks
from tests.guardrail_defs import guarded, route

web = guarded("web", image="nginx:latest").with_traits(
    route(service="nope"),
)
api = guarded("api", probes=False, image="api")
app = Application("shop", components=[web, api], policies=[{policies}])
"""


def report_of(loaded: LoadedApp, **kw: object) -> GuardrailReport:
    return evaluate(loaded.app, loaded.catalogue, render_app(loaded.app), **kw)  # type: ignore[arg-type]


def write(write_app: Callable[[str], Path], policies: str = "") -> Path:
    return write_app(APP.replace("{policies}", policies))


def test_standard_checks_are_never_on_by_themselves(write_app: Callable[[str], Path]) -> None:
    web = write_app(
        "from pyvela import Application\nfrom pyvela.stdlib import webservice\n"
        'app = Application("a", components=[webservice("w", image="nginx")])\n'
    )
    assert load_app(web, defs=["platform_defs"]).catalogue.checks == ()  # the stdlib is in the catalogue
    on = load_app(web, defs=["platform_defs", "pyvela.stdlib.guardrails"]).catalogue.checks
    assert [c.name for c in on] == sorted(c.name for c in on) and len(on) == 6


def test_a_platform_turns_some_on_by_importing_them(
    tmp_path: Path, write_app: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mydefs_g16.py").write_text(
        "from pyvela.stdlib import guardrails as g\n"
        "from pyvela.stdlib.guardrails import no_privileged\n"
        "image_pinned = g.image_pinned.with_severity('warning')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = load_app(write(write_app), defs=["tests.guardrail_defs", "mydefs_g16"])
    assert {c.name: c.severity for c in loaded.catalogue.checks} == {
        "image-pinned": "warning",
        "no-privileged": "error",
        "team-label": "warning",
    }
    report = report_of(loaded)
    assert report.ok and {v.check for v in report.warnings} == {"image-pinned"}
    sys.modules.pop("mydefs_g16", None)


def test_findings_name_the_rule_the_object_and_the_apps_line(write_app: Callable[[str], Path]) -> None:
    path = write(write_app)
    report = report_of(load_app(path, defs=ON))
    errors = {(v.check, v.object): v for v in report.errors}
    pinned = errors[("image-pinned", "Deployment default/web")]
    assert str(pinned.where) == f"{path}:4" and pinned.component == "web"
    assert pinned.rule_where is not None and pinned.rule_where.file.endswith("stdlib/guardrails.py")
    route = errors[("ingress-backends-exist", "Ingress default/web")]
    assert str(route.where) == f"{path}:5"  # the trait's line, not the component's
    assert ("image-pinned", "Deployment default/api") in errors
    assert ("probes-set", "Deployment default/api") in errors
    assert [v.check for v in report.warnings] == ["probes-set"]  # liveness
    with pytest.raises(GuardrailError) as caught:
        enforce(report)
    err = caught.value
    assert err.where == pinned.where and "nothing was applied" in err.message
    assert f"{path}:5: error: component 'web': Ingress default/web: ingress-backends-exist" in str(err)
    assert "fix: pin it by version or digest" in str(err)
    assert {f["check"] for f in err.to_dict()["findings"]} == {
        "image-pinned",
        "ingress-backends-exist",
        "probes-set",
    }


def test_only_wanted_components_are_reported(write_app: Callable[[str], Path]) -> None:
    report = report_of(load_app(write(write_app), defs=ON), components=["api"])
    assert {v.component for v in report.violations} == {"api"}


def test_a_waiver_lets_a_rule_pass_for_its_components_only(write_app: Callable[[str], Path]) -> None:
    policies = (
        'waive_checks("legacy", waivers=(Waiver(check="image-pinned", components=("api",), reason="JIRA-7"),'
        ' Waiver(check="no-such-check", components=("api",), reason="old"),))'
    )
    report = report_of(load_app(write(write_app, policies), defs=ON))
    waived = report.waived
    assert [(v.check, v.component, v.waived) for v in waived] == [("image-pinned", "api", "JIRA-7")]
    assert ("image-pinned", "web") in {(v.check, v.component) for v in report.errors}
    assert any("'no-such-check', which is not among the checks on" in n for n in report.notes)
    record = report.to_record()
    assert record is not None
    assert record["waived"] == [
        {"check": "image-pinned", "component": "api", "reason": "JIRA-7", "findings": 1}
    ]
    lines = record_lines(record)
    assert lines[0] == "waived: check 'image-pinned' for component 'api' (1 finding): JIRA-7"


def test_a_waiver_for_a_component_the_app_lacks_is_refused_at_its_line(
    write_app: Callable[[str], Path],
) -> None:
    policies = 'waive_checks("w", waivers=(Waiver(check="image-pinned", components=("wbe",), reason="x"),))'
    path = write(write_app, policies)
    with pytest.raises(DanglingReferenceError) as caught:
        load_app(path, defs=ON)
    assert (
        str(caught.value.where) == f"{path}:8"
        and "'wbe', which the app does not have" in caught.value.message
    )
    empty = 'waive_checks("w", waivers=(Waiver(check="image-pinned", components=("web",), reason=" "),))'
    with pytest.raises(ParameterError, match="say why the rule is waived"):
        load_app(write(write_app, empty), defs=ON)


def test_the_kubevela_yaml_form_of_a_waiver(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(
        "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: shop}\nspec:\n"
        "  components:\n    - name: web\n      type: guarded\n      properties: {image: nginx}\n"
        "  policies:\n    - name: legacy\n      type: waive-checks\n      properties:\n        waivers:\n"
        "          - {check: image-pinned, components: [web], reason: vendor image}\n"
    )
    report = report_of(load_app(path, defs=ON))
    assert report.ok and [(v.check, v.waived) for v in report.waived] == [("image-pinned", "vendor image")]
    assert str(report.waived[0].where) == f"{path}:6"


@attrs.frozen(kw_only=True)
class _Catalogue:
    checks: tuple[object, ...]


def test_a_check_that_raises_is_reported_at_its_line(write_app: Callable[[str], Path]) -> None:
    @check(name="broken")
    def broken(obj: CheckedObject) -> Iterator[Finding]:
        yield Finding(obj.object["nope"])

    @check(name="not-a-finding")  # type: ignore[arg-type]  # on purpose: it returns strings
    def wrong(obj: CheckedObject) -> list[str]:
        return ["a string"]

    loaded = load_app(write(write_app), defs=ON)
    rendered = render_app(loaded.app)
    with pytest.raises(DefinitionError) as caught:
        evaluate(loaded.app, _Catalogue(checks=(broken,)), rendered)  # type: ignore[arg-type]
    assert "check 'broken' raised KeyError" in caught.value.message
    assert (
        caught.value.where is not None and caught.value.where.line == broken.where.line + 2
    )  # the yield, under @check and def
    with pytest.raises(DefinitionError, match="returned str, not a Finding"):
        evaluate(loaded.app, _Catalogue(checks=(wrong,)), rendered)  # type: ignore[arg-type]


def test_the_decorator_is_pure_and_checks_its_arguments() -> None:
    @check(name="x-rule", kinds=("Service",), labels={"tier": "front"})
    def rule(obj: CheckedObject) -> None:
        """Doc."""

    assert rule.description == "Doc." and rule.scope == "object" and rule.kinds == ("Service",)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rule.severity = "warning"  # type: ignore[misc]
    assert rule.with_severity("warning").severity == "warning" and rule.severity == "error"
    svc = CheckedObject(
        object={"kind": "Service", "metadata": {"labels": {"tier": "front"}}}, component="c", definition="d"
    )
    other = CheckedObject(object={"kind": "Service", "metadata": {}}, component="c", definition="d")
    assert rule.selects(svc) and not rule.selects(other)
    for bad in ({"name": "Bad_Name"}, {"name": "x", "severity": "fatal"}, {"name": "x", "kinds": "Service"}):
        with pytest.raises(DefinitionError):
            check(**bad)(lambda o: None)  # type: ignore[call-overload]


def test_a_thousand_findings_print_the_first_fifty() -> None:
    findings = [{"check": "image-pinned", "message": f"m{i}", "text": f"line {i}"} for i in range(60)]
    err = GuardrailError("app 'a' fails its guardrails", findings=findings)
    text = str(err)
    assert "line 49" in text and "line 50" not in text and "… and 10 more" in text
    assert len(err.to_dict()["findings"]) == 60  # -o json keeps them all


def test_a_waiver_of_a_mistyped_check_suggests_the_check_meant(write_app: Callable[[str], Path]) -> None:
    policies = (
        'waive_checks("legacy", waivers=(Waiver(check="image-pined", components=("api",), reason="x"),))'
    )
    report = report_of(load_app(write(write_app, policies), defs=ON))
    (note,) = report.notes
    assert "'image-pined', which is not among the checks on" in note
    assert "did you mean 'image-pinned'?" in note
