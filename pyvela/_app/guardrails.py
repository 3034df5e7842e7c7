"""Running an app's guardrails (the catalogue's ``@check`` definitions) over its rendered
objects: before ``render`` prints, ``diff`` compares and ``deploy`` applies anything, and on
their own in ``pyvela check``.

A finding becomes a :class:`Violation`: the rule, the object, the component and the app's
line that uses it, the fix. An error that no ``waive-checks`` waiver covers stops the run
(:func:`enforce` raises :class:`~pyvela.errors.GuardrailError`); warnings and waived findings
are reported, and a deploy records them in its revision.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Sequence
from typing import Any

from pyvela._app.application import Application
from pyvela._app.catalogue import Catalogue
from pyvela._app.guardreport import Case, GuardrailReport, Violation, record_lines
from pyvela._app.references import closest
from pyvela._app.render import RenderedComponent
from pyvela._core.guardrails import CheckDefinition, CheckedApp, CheckedObject, Finding
from pyvela._core.waivers import Waiver, waivers_of
from pyvela.errors import DefinitionError, GuardrailError, Location, PyvelaError

__all__ = ["Case", "GuardrailReport", "Violation", "enforce", "evaluate", "guard", "record_lines"]
WAIVE_FIX = "or waive the rule for the component with a waive-checks policy (docs/guardrails.md)"


def checked_objects(app: Application, rendered: Sequence[RenderedComponent]) -> list[CheckedObject]:
    """Each rendered object with its component, definition and the app's line behind it."""
    out = []
    for rc in rendered:
        use = app.component(rc.name)
        trait_where = {t.definition.name: t.where for t in reversed(use.traits)}  # the first use wins
        for ro in rc.objects:
            out.append(
                CheckedObject(
                    object=ro.object,
                    component=ro.component,
                    definition=use.definition.name,
                    trait=ro.trait,
                    output=ro.output,
                    where=trait_where.get(ro.trait, use.where) if ro.trait else use.where,
                )
            )
    return out


def evaluate(
    app: Application,
    catalogue: Catalogue,
    rendered: Sequence[RenderedComponent],
    *,
    components: Iterable[str] | None = None,
) -> GuardrailReport:
    """Run every check of ``catalogue`` over ``rendered`` (the app's components, rendered).

    ``components``: report only findings on these components (and on the app as a whole),
    as ``render --component`` shows only them; app checks still see every object.

    Raises:
        DefinitionError: a check raised, or returned something that is not a Finding.
    """
    checks = catalogue.checks
    waivers = waivers_of(app.policies)
    notes = _stale(waivers, checks)
    if not checks:
        return GuardrailReport(app=app.name, notes=notes)
    objects = checked_objects(app, rendered)
    wanted = set(components) if components is not None else None
    cases: list[Case] = []
    for definition in checks:
        if definition.scope == "object":
            for obj in objects:
                if definition.selects(obj) and (wanted is None or obj.component in wanted):
                    found = _call(definition, obj)
                    cases.append(
                        _case(definition, obj, [_located(definition, f, obj, waivers) for f in found])
                    )
        else:
            cases.extend(_app_cases(definition, app, objects, waivers, wanted))
    violations = tuple(v for c in cases for v in c.violations)
    return GuardrailReport(
        app=app.name,
        checks=tuple(c.name for c in checks),
        cases=tuple(cases),
        violations=violations,
        notes=notes,
    )


def _selective(definition: CheckDefinition) -> bool:
    return bool(definition.kinds or definition.components or definition.component_types or definition.labels)


def _app_cases(
    definition: CheckDefinition,
    app: Application,
    objects: list[CheckedObject],
    waivers: list[Waiver],
    wanted: set[str] | None,
) -> list[Case]:
    subjects = [o for o in objects if definition.selects(o)] if _selective(definition) else list(objects)
    if _selective(definition) and not subjects:
        return []  # nothing of what it judges is in the app
    view = CheckedApp(
        name=app.name, namespace=app.namespace, objects=tuple(objects), subjects=tuple(subjects)
    )
    by_subject: dict[int, list[Violation]] = {id(o): [] for o in subjects}
    extra: dict[int, tuple[CheckedObject, list[Violation]]] = {}
    whole: list[Violation] = []
    for finding in _call(definition, view):
        about = finding.subject
        violation = _located(definition, finding, about, waivers, app_where=app.where)
        if about is None:
            whole.append(violation)
        elif id(about) in by_subject:
            by_subject[id(about)].append(violation)
        else:
            extra.setdefault(id(about), (about, []))[1].append(violation)
    cases = [_case(definition, o, by_subject[id(o)]) for o in subjects]
    cases += [_case(definition, o, vs) for o, vs in extra.values()]
    cases = [c for c in cases if wanted is None or c.component in wanted]
    if whole or not subjects:
        cases.append(
            Case(
                check=definition.name,
                subject=f"app {app.name}",
                component=None,
                violations=tuple(whole),
                where=app.where,
            )
        )
    return cases


def _case(definition: CheckDefinition, obj: CheckedObject, violations: list[Violation]) -> Case:
    return Case(
        check=definition.name,
        subject=str(obj),
        component=obj.component,
        violations=tuple(violations),
        where=obj.where,
    )


def _located(
    definition: CheckDefinition,
    finding: Finding,
    obj: CheckedObject | None,
    waivers: list[Waiver],
    *,
    app_where: Location | None = None,
) -> Violation:
    component = obj.component if obj is not None else None
    waiver = next((w for w in waivers if w.covers(definition.name, component)), None)
    return Violation(
        check=definition.name,
        severity=finding.severity or definition.severity,
        message=finding.message,
        fix=finding.fix or definition.fix,
        field=finding.field,
        component=component,
        object=str(obj) if obj is not None else None,
        where=obj.where if obj is not None else app_where,
        rule_where=definition.where,
        waived=waiver.reason if waiver is not None else None,
    )


def _call(definition: CheckDefinition, subject: Any) -> list[Finding]:
    try:
        result = definition.fn(subject)
        found = [result] if isinstance(result, Finding) else list(result or ())
    except PyvelaError as exc:
        raise exc.with_context(definition=definition.name, object=str(subject)) from None
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        last = frames[-1] if frames else None
        raise DefinitionError(
            f"check {definition.name!r} raised {type(exc).__name__}: {exc}",
            where=Location(last.filename, last.lineno or 0) if last else definition.where,
            object=str(subject),
            fix="a check must not raise: return a Finding for what is wrong, nothing for what passes",
        ) from exc
    for item in found:
        if not isinstance(item, Finding):
            raise DefinitionError(
                f"check {definition.name!r} returned {type(item).__name__}, not a Finding",
                where=definition.where,
                expected="Finding(...) items (a list, yielded, one Finding, or None)",
                got=repr(item)[:80],
            )
    return found


def _stale(waivers: list[Waiver], checks: Sequence[CheckDefinition]) -> tuple[str, ...]:
    on = {c.name for c in checks}
    return tuple(_stale_note(w.check, on) for w in waivers if w.check not in on)


def _stale_note(check: str, on: set[str]) -> str:
    # A waiver of a mistyped check silently waives nothing: name the check it was likely meant for.
    guess = closest(check, sorted(on))
    hint = f" (did you mean {guess!r}?)" if guess is not None else ""
    return (
        f"a waive-checks policy waives {check!r}, which is not among the checks on "
        f"({', '.join(sorted(on)) or 'none'}): the waiver does nothing{hint}"
    )


def enforce(report: GuardrailReport, *, what: str = "nothing was applied") -> GuardrailReport:
    """``report`` when nothing stops the run; else raise.

    Raises:
        GuardrailError: every error finding no waiver covers, each with its rule, object,
            component, the app's file:line and the fix.
    """
    errors = report.errors
    if not errors:
        return report
    first = errors[0]
    rules = sorted({v.check for v in errors})
    raise GuardrailError(
        f"app {report.app!r} fails its guardrails: {len(errors)} error "
        f"finding{'s' if len(errors) > 1 else ''} ({', '.join(rules)}): {what}",
        where=first.where,
        findings=[v.to_dict() | {"text": v.text()} for v in errors],
        fix=(f"{first.fix}, " if len(errors) == 1 and first.fix else "fix each finding, ") + WAIVE_FIX,
        component=first.component,
        object=first.object,
    )


def guard(
    app: Application,
    catalogue: Catalogue,
    rendered: Sequence[RenderedComponent],
    *,
    what: str = "nothing was applied",
) -> GuardrailReport:
    """:func:`evaluate`, then :func:`enforce`: the call before anything is applied."""
    return enforce(evaluate(app, catalogue, rendered), what=what)
