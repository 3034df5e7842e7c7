"""What the guardrails found, as data: each finding located (:class:`Violation`), each rule
judging one object (:class:`Case`, a JUnit test case), an app's :class:`GuardrailReport`, and
the part of it a revision records (what ``deploy`` and ``status`` print). Running the checks
is ``guardrails``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._core.guardrails import Severity
from pyvela.errors import Location

#: How many warnings a revision keeps in the state record (the index stays small).
RECORDED_WARNINGS = 20


@attrs.frozen(kw_only=True)
class Violation:
    """A finding of a check, located.

    Attributes:
        check: The rule's name.
        severity: ``error`` or ``warning``.
        message: What is wrong.
        fix: What to change (the finding's, else the check's).
        field: Where in the object, when the check said.
        component: The component whose object it is (None: about the app as a whole).
        object: The object (``Deployment default/web``; None: the app).
        where: The app's line that uses the component (or its trait).
        rule_where: Where the check is defined.
        waived: The waiver's reason, when a ``waive-checks`` policy lets it pass.
    """

    check: str
    severity: Severity
    message: str
    fix: str | None = None
    field: str | None = None
    component: str | None = None
    object: str | None = None
    where: Location | None = None
    rule_where: Location | None = None
    waived: str | None = None

    @property
    def stops(self) -> bool:
        return self.severity == "error" and self.waived is None

    @property
    def label(self) -> str:
        """``waived``, ``error`` or ``warning``."""
        return "waived" if self.waived is not None else self.severity

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.check, "severity": self.severity, "message": self.message}
        for key in ("fix", "field", "component", "object", "waived"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.where is not None:
            out["where"] = str(self.where)
        if self.rule_where is not None:
            out["rule_where"] = str(self.rule_where)
        return out

    def text(self) -> str:
        """One line (and the fix on the next), compiler-style: ``file:line: error: …``."""
        head = f"{self.where}: " if self.where is not None else ""
        about = [f"component {self.component!r}"] if self.component else []
        about += [self.object] if self.object else []
        at = f" (at {self.field})" if self.field else ""
        line = (
            f"{head}{self.label}: {': '.join(about) + ': ' if about else ''}{self.check}: {self.message}{at}"
        )
        if self.waived is not None:
            line += f" [waived: {self.waived}]"
        elif self.fix:
            line += f"\n    fix: {self.fix}"
        return line


@attrs.frozen(kw_only=True)
class Case:
    """One rule judging one object (or the app): a test case of the JUnit report."""

    check: str
    subject: str
    component: str | None
    violations: tuple[Violation, ...] = ()
    #: The app's line behind the object (the component's or its trait's use), or the app's.
    where: Location | None = None


@attrs.frozen(kw_only=True)
class GuardrailReport:
    """What an app's checks found."""

    app: str
    checks: tuple[str, ...] = ()
    cases: tuple[Case, ...] = ()
    violations: tuple[Violation, ...] = ()
    #: Said about the checks themselves (a waiver for a check that is not on).
    notes: tuple[str, ...] = ()

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.stops]

    @property
    def warnings(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "warning" and v.waived is None]

    @property
    def waived(self) -> list[Violation]:
        return [v for v in self.violations if v.waived is not None]

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        return {
            "checks": len(self.checks),
            "cases": len(self.cases),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "waived": len(self.waived),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "ok": self.ok,
            "checks": list(self.checks),
            "counts": self.counts(),
            "findings": [v.to_dict() for v in self.violations],
            "notes": list(self.notes),
        }

    def to_record(self) -> dict[str, Any] | None:
        """What a revision keeps (None when no check ran): the checks, every waiver used (one
        entry per rule and component) and the first warnings."""
        if not self.checks:
            return None
        waived: dict[tuple[str, str | None], dict[str, Any]] = {}
        for v in self.waived:
            entry = waived.setdefault(
                (v.check, v.component),
                {"check": v.check, "component": v.component, "reason": v.waived, "findings": 0},
            )
            entry["findings"] += 1
        warnings = [v.text() for v in self.warnings] + list(self.notes)
        return {
            "checks": list(self.checks),
            "waived": list(waived.values()),
            "warnings": warnings[:RECORDED_WARNINGS],
            "warning_count": len(warnings),
        }


def record_lines(record: Mapping[str, Any] | None) -> list[str]:
    """A revision's guardrail record (:meth:`GuardrailReport.to_record`) as lines: each waiver
    used, then the warnings kept (``deploy`` and ``status`` print them)."""
    if not record:
        return []
    lines = [
        f"waived: check {w['check']!r} for component {w['component']!r} ({w['findings']} finding"
        f"{'s' if w['findings'] != 1 else ''}): {w['reason']}"
        for w in record.get("waived") or []
    ]
    warnings = list(record.get("warnings") or [])
    lines += [f"warning: {w.splitlines()[0]}" for w in warnings]
    more = int(record.get("warning_count") or 0) - len(warnings)
    if more > 0:
        lines.append(f"warning: … and {more} more (pyvela check shows them all)")
    return lines
