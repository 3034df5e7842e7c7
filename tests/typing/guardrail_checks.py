# pyright: strict
# A platform's guardrails as a platform engineer writes them. Lines ending in "# E: <words>"
# must be reported by both mypy --strict and pyright; every other line must be clean.
from collections.abc import Iterator

from pyvela import (
    Application,
    CheckDefinition,
    CheckedApp,
    CheckedObject,
    Finding,
    Severity,
    Waiver,
    check,
    waive_checks,
)
from pyvela.stdlib import guardrails


@check(name="no-host-network", kinds=("Deployment",), fix="remove hostNetwork")
def no_host_network(obj: CheckedObject) -> Iterator[Finding]:
    """Pods do not share the node's network."""
    if (obj.pod_spec or {}).get("hostNetwork"):
        yield Finding("the pods use the host's network", field="spec.template.spec.hostNetwork")


@check(name="team-label", severity="warning", labels={"tier": "front"})
def team_label(obj: CheckedObject) -> Finding | None:
    return None if obj.labels.get("team") else Finding("no team label", severity="error")


@check(name="one-ingress", scope="app", kinds=("Ingress",))
def one_ingress(app: CheckedApp) -> list[Finding]:
    extra = app.subjects[1:]
    return [Finding(f"{o} is a second Ingress", subject=o) for o in extra]


sample = CheckedObject(object={}, component="c", definition="d")
images = [(path, str(c.get("image"))) for path, c in sample.containers(init=False)]

level: Severity = "warning"
softer: CheckDefinition = guardrails.image_pinned.with_severity(level)
waiver = waive_checks("legacy", waivers=(Waiver(check="image-pinned", components=("web",), reason="JIRA-1"),))
app = Application("shop", components=[], policies=[waiver])


@check(name="app-fn-as-object", scope="app")  # E: arg-type
def wrong_scope(obj: CheckedObject) -> list[Finding]:
    return []


@check(name="bad-result")  # E: arg-type
def bad_result(obj: CheckedObject) -> list[str]:
    return []


bad_severity = Finding("x", severity="fatal")  # E: severity
bad_level = guardrails.probes_set.with_severity("info")  # E: info
bad_waiver = Waiver(check="image-pinned", components="web", reason="r")  # E: components
