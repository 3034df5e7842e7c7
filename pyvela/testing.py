"""Helpers for testing apps and definitions with pytest.

Render an app or one component and look objects up::

    objs = render("apps/lixiang.py")
    deploy = objs.get("Deployment", "base-service")

Drive a step with canned action results, then assert on what it asked for::

    trace = run_step(apply_base("s", component="base-service"), results={
        ApplyComponent: applied, WaitReady: {},
        RegisterConfig: {"release_key": "k", "changed": True, "items": {}},
    }, components={"base-service": ServiceParams(image="x", cluster="default")})
    assert trace.outputs.cluster_ip == "10.96.0.10"

Compare an app against its golden file (parsed YAML, not text)::

    assert_golden("apps/lixiang.py", "tests/golden/lixiang.yaml")

Golden files are rewritten only on purpose (``pytest --pyvela-update-golden``, or
``PYVELA_UPDATE_GOLDEN=1``), and never under CI.

Assert on the fields a test cares about; a failure names the object and each differing
field by its path (``spec.template.spec.containers[name=web].image``)::

    assert_fields(objs.get("Deployment", "web"), {"spec": {"replicas": 2}})

Deploy on a fresh sandbox and read back (the pytest plugin's ``pyvela_sandbox`` and
``deploy_app`` fixtures do this per test)::

    cluster = sandbox_cluster(tmp_path / "sandbox")
    assert cluster.deploy("apps/lixiang.py").ok
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

from pyvela._app.application import Application
from pyvela._app.guardrails import GuardrailReport, _call, evaluate
from pyvela._app.output import to_yaml
from pyvela._app.render import RenderedObject, render_component
from pyvela._core.actions import Action, StepContext
from pyvela._core.fielddiff import Difference, differences, objects_report, report
from pyvela._core.guardrails import CheckDefinition, CheckedApp, CheckedObject, Finding
from pyvela._core.objects import Obj, is_helm_release
from pyvela._core.steps import StepUse
from pyvela._testing_cluster import AppLike, Cluster, Deployed, loaded_app, real_cluster, sandbox_cluster
from pyvela._workflow.driver import StepRun, Suspended, drive
from pyvela.errors import PyvelaError

__all__ = [
    "Cluster",
    "Deployed",
    "Difference",
    "RenderedObjects",
    "StepTrace",
    "assert_fields",
    "assert_golden",
    "assert_guardrails_pass",
    "assert_object",
    "assert_trace_golden",
    "differences",
    "findings",
    "guardrails",
    "in_ci",
    "real_cluster",
    "render",
    "run_step",
    "sandbox_cluster",
]


@attrs.define
class _GoldenMode:
    # Set by the pytest plugin's --pyvela-update-golden; the environment variable also works.
    update: bool = False
    written: list[Path] = attrs.field(factory=list)

    def updating(self) -> bool:
        return self.update or os.environ.get("PYVELA_UPDATE_GOLDEN") == "1"


_golden = _GoldenMode()


def in_ci() -> bool:
    """Whether this runs under CI (``CI`` set, as every CI service does, and not false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@attrs.frozen
class RenderedObjects:
    """Rendered objects of an app, with lookups."""

    items: tuple[RenderedObject, ...]
    warnings: tuple[str, ...] = ()

    @property
    def objects(self) -> list[Obj]:
        return [ro.object for ro in self.items]

    def __iter__(self) -> Iterator[Obj]:
        return iter(self.objects)

    def __len__(self) -> int:
        return len(self.items)

    def find(
        self, kind: str | None = None, name: str | None = None, *, component: str | None = None
    ) -> list[Obj]:
        """Objects matching every criterion given."""
        return [
            ro.object
            for ro in self.items
            if (kind is None or ro.object.get("kind") == kind)
            and (name is None or ro.object.get("metadata", {}).get("name") == name)
            and (component is None or ro.component == component)
        ]

    def get(self, kind: str, name: str) -> Obj:
        """The one object of ``kind`` named ``name``; AssertionError listing what exists otherwise."""
        found = self.find(kind, name)
        if len(found) != 1:
            have = ", ".join(f"{o.get('kind')}/{o.get('metadata', {}).get('name')}" for o in self.objects)
            raise AssertionError(f"expected one {kind}/{name}, found {len(found)} (objects: {have})")
        return found[0]


def render(
    app: AppLike, *, component: str | None = None, defs: Sequence[str] | None = None
) -> RenderedObjects:
    """Render an app file, a loaded app or an ``Application`` built in the test, optionally one
    component only.

    ``defs``: the catalogue's modules (default ``$PYVELA_DEFS``, else ``platform_defs``).
    """
    loaded = loaded_app(app, defs)
    items: list[RenderedObject] = []
    warnings: list[str] = []
    for use in loaded.app.components:
        if component is not None and use.name != component:
            continue
        rc = render_component(loaded.app, use, revision=loaded.revision)
        items.extend(rc.objects)
        warnings.extend(rc.warnings)
    if component is not None and not items:
        raise AssertionError(f"no component {component!r} in {loaded.app.name!r}")
    return RenderedObjects(tuple(items), tuple(warnings))


def guardrails(app: AppLike, *, defs: Sequence[str] | None = None) -> GuardrailReport:
    """Run the catalogue's checks (``@check`` definitions) over the app's render, as ``pyvela
    check`` does: ``.errors``, ``.warnings``, ``.waived``, ``.ok``."""
    loaded = loaded_app(app, defs)
    rendered = [render_component(loaded.app, use, revision=loaded.revision) for use in loaded.app.components]
    return evaluate(loaded.app, loaded.catalogue, rendered)


def findings(check: CheckDefinition, subject: CheckedObject | CheckedApp) -> list[Finding]:
    """What one check finds in one object (or, for ``scope="app"``, one app), as a list: the
    check's function called as the runner calls it (a check that raises is a DefinitionError)."""
    return _call(check, subject)


def assert_guardrails_pass(app: AppLike, *, defs: Sequence[str] | None = None) -> GuardrailReport:
    """Assert that no check finds an error in the app (warnings and waived findings pass);
    a failure lists each finding as ``pyvela check`` prints it."""
    report = guardrails(app, defs=defs)
    if report.errors:
        lines = [v.text() for v in report.errors]
        raise AssertionError(f"app {report.app!r} fails {len(lines)} guardrail(s):\n" + "\n".join(lines))
    return report


@attrs.define
class StepTrace:
    """What a step did when driven with canned results.

    Attributes:
        actions: Every action the step awaited, in order.
        outputs: What it returned (None when it failed or suspended).
        error: The PyvelaError it failed with, if any.
        suspended: Whether it suspended the workflow.
    """

    actions: list[Action[Any]] = attrs.field(factory=list)
    outputs: Any = None
    error: PyvelaError | None = None
    suspended: bool = False

    def of(self, kind: type[Action[Any]]) -> list[Any]:
        return [a for a in self.actions if isinstance(a, kind)]


def run_step(
    use: StepUse[Any, Any],
    *,
    results: Mapping[type[Any], Any] | Callable[[Action[Any]], Any],
    components: Mapping[str, Any] | None = None,
    app: Application | None = None,
    inputs: Mapping[str, Any] | None = None,
    namespace: str = "default",
    revision: str = "test",
) -> StepTrace:
    """Drive one step with canned results instead of a cluster.

    Args:
        use: The step as the app writes it (``apply_base("s", component="x")``).
        results: The result for each action type, or a function of the action.
        components: Component parameters by name, as ``ctx.components`` (taken from
            ``app`` when given).
        app: The app the step belongs to (for its name and components).
        inputs: Values for parameters that hold references to other steps' outputs.
    """
    trace = StepTrace()

    def perform(action: Action[Any]) -> Any:
        if callable(results) and not isinstance(results, Mapping):
            return results(action)
        for kind, value in results.items():
            if isinstance(action, kind):
                return value(action) if callable(value) and not isinstance(value, type) else value
        raise AssertionError(f"no canned result for {type(action).__name__} ({action.describe()})")

    params = use.params
    if inputs:
        params = attrs.evolve(params, **inputs)
    if app is not None and components is None:
        components = {c.name: c.params for c in app.components}
    ctx = StepContext(
        step_name=use.name,
        app_name=app.name if app else "test-app",
        namespace=namespace,
        app_revision=revision,
        components=dict(components or {}),
    )
    run = StepRun(name=use.name, definition=use.definition.name, journal=[], retries=0)
    try:
        trace.outputs = drive(
            use.definition.run(params, ctx),
            run,
            perform,
            deadline=time.monotonic() + 3600,
            cancel=threading.Event(),
            where=use.where,
            observe=trace.actions.append,
        )
    except Suspended:
        trace.suspended = True
    except PyvelaError as exc:
        trace.error = exc
    return trace


def assert_golden(app: AppLike, golden: str | Path, *, defs: Sequence[str] | None = None) -> None:
    """Compare an app's rendered objects with a golden YAML file, after parsing both.

    With ``pytest --pyvela-update-golden`` (or ``PYVELA_UPDATE_GOLDEN=1``) the file is
    rewritten instead, refused when ``CI`` is set: golden files change only on purpose, in a
    reviewed commit. A difference names each object and field that differs.
    """
    path = Path(golden)
    objects = render(app, defs=defs).objects
    if _updated(path, _golden_text(objects)):
        return
    expected = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    actual = [d for d in yaml.safe_load_all(_golden_text(objects)) if d is not None]
    if expected != actual:
        lines = objects_report(expected, actual)
        raise AssertionError(
            f"rendered objects differ from {path} (pytest --pyvela-update-golden rewrites it):\n"
            + "\n".join(lines)
        )


def _updated(path: Path, text: str) -> bool:
    """Rewrite ``path`` when updating golden files (True); else make sure there is one to compare."""
    if _golden.updating():
        if in_ci():
            raise AssertionError(
                "refusing to update golden files under CI (CI is set): golden files change only "
                "on purpose, on a developer's machine, in a reviewed commit"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            _golden.written.append(path)
        return True
    if not path.exists():
        raise AssertionError(
            f"golden file {path} is missing: run pytest --pyvela-update-golden to create it "
            "(then review and commit it)"
        )
    return False


def assert_trace_golden(trace: StepTrace, golden: str | Path) -> None:
    """Compare what a step did with a golden YAML file: each action it awaited (as progress
    lines and the journal say it), its outputs, its error; rewritten as :func:`assert_golden`'s."""
    path = Path(golden)
    text = _trace_text(trace)
    if _updated(path, text):
        return
    found = differences(yaml.safe_load(path.read_text()), yaml.safe_load(text))
    if found:
        raise AssertionError(
            f"the step did not do what {path} says (pytest --pyvela-update-golden rewrites it):\n"
            + "\n".join(f"  {d}" for d in found)
        )


def _trace_text(trace: StepTrace) -> str:
    outputs = attrs.asdict(trace.outputs) if attrs.has(type(trace.outputs)) else trace.outputs
    error = trace.error
    data = {
        "actions": [a.describe() for a in trace.actions],
        "outputs": json.loads(json.dumps(outputs, default=str)),  # plain YAML: no tuples or classes
        "suspended": trace.suspended,
        "error": None if error is None else {"type": type(error).__name__, "message": error.message},
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def assert_fields(actual: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    """Assert that ``actual`` has every field ``expected`` names, with its value (others are ignored).

    Lists of named items match by name (``{"spec": {"template": {"spec": {"containers":
    [{"name": "web", "image": "x"}]}}}}`` checks the web container wherever it is).
    """
    lines = report(expected, actual, subset=True)
    if lines:
        raise AssertionError("\n".join(lines))


def assert_object(actual: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    """Assert that two objects are equal, naming each missing, unexpected or changed field."""
    lines = report(expected, actual)
    if lines:
        raise AssertionError("\n".join(lines))


def _golden_text(objects: list[Obj]) -> str:
    # Golden files keep Helm releases as real documents (not comments) so they are compared too.
    kube = to_yaml([o for o in objects if not is_helm_release(o)])
    helm = [o for o in objects if is_helm_release(o)]
    return kube + ("---\n" + yaml.safe_dump_all(helm, sort_keys=False) if helm else "")
