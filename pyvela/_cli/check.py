"""``pyvela check APP…``: the guardrails alone (text, ``-o json``, ``--junit FILE``), and the
guardrail step of ``render``.

Exit codes: 0 no error finding (warnings and waived findings allowed), 1 error findings, 2 an
app or its definitions cannot be loaded or rendered, or the arguments are wrong (``main``).
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from pyvela._app.guardrails import GuardrailReport, Violation, enforce, evaluate
from pyvela._app.loader import LoadedApp, load_app
from pyvela._app.render import RenderedComponent, render_app
from pyvela.errors import PyvelaError

EXIT_FINDINGS = 1


def guard_render(
    loaded: LoadedApp,
    rendered: Sequence[RenderedComponent],
    wanted: Collection[str] = (),
    *,
    what: str = "nothing is printed",
) -> None:
    """The guardrails of ``render`` and ``diff``: warnings and waived findings on stderr; an
    error finding raises (so not one object is printed for ``| kubectl apply -f -`` to apply,
    nor dry-run)."""
    if not loaded.catalogue.checks and not loaded.app.policies:
        return
    report = evaluate(loaded.app, loaded.catalogue, rendered, components=wanted or None)
    _print_findings(report, errors=False)
    enforce(report, what=what)


def _print_findings(report: GuardrailReport, *, errors: bool, file: Any = None) -> None:
    out = file or sys.stderr
    for v in report.violations:
        if errors or not v.stops:
            print(v.text(), file=out)
    for note in report.notes:
        print(f"warning: {note}", file=out)


def cmd_check(args: argparse.Namespace) -> int:
    """Load, render and check each app; report them all together."""
    results: list[tuple[LoadedApp, GuardrailReport]] = []
    for path in args.apps:
        loaded = load_app(path, defs=args.defs)
        rendered = render_app(loaded.app, revision=loaded.revision)
        results.append((loaded, evaluate(loaded.app, loaded.catalogue, rendered)))
    if args.junit:
        write_junit([(str(loaded.path), report) for loaded, report in results], Path(args.junit))
    failed = any(not report.ok for _, report in results)
    if args.output == "json":
        apps = [{"file": str(loaded.path), **report.to_dict()} for loaded, report in results]
        print(json.dumps({"ok": not failed, "apps": apps}, indent=2))
    else:
        for loaded, report in results:
            _print_findings(report, errors=True, file=sys.stdout)
            print(_summary(str(loaded.path), report))
    return EXIT_FINDINGS if failed else 0


def _summary(file: str, report: GuardrailReport) -> str:
    c = report.counts()
    if not report.checks:
        return f"{file}: app {report.app!r}: no checks are on (docs/guardrails.md says how to turn them on)"
    failing = len({v.check for v in report.errors})  # "fails 7 check(s)" read as all seven failing
    verdict = f"fails {failing} of" if c["errors"] else "passes"
    return (
        f"{file}: app {report.app!r} {verdict} {c['checks']} check(s), {c['cases']} case(s) (rule x object): "
        f"{c['errors']} error(s), {c['warnings']} warning(s), {c['waived']} waived"
    )


def write_junit(reports: Sequence[tuple[str, GuardrailReport]], path: Path) -> None:
    """A JUnit XML report: a testsuite per app, a testcase per rule and object it judges; an
    error finding is a failure, a waived one skipped, warnings in the case's system-out.

    Raises:
        PyvelaError: the file cannot be written.
    """
    root = ET.Element("testsuites", name="pyvela check")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for file, report in reports:
        suite = ET.SubElement(root, "testsuite", name=report.app, file=file)
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for case in report.cases:
            counts["tests"] += 1
            name = f"{case.component}: {case.subject}" if case.component else case.subject
            attributes = {"classname": f"pyvela.{report.app}.{case.check}", "name": name, "file": file}
            where = case.where
            if where is not None:
                attributes.update(file=where.file, line=str(where.line))
            element = ET.SubElement(suite, "testcase", attributes)
            errors = [v for v in case.violations if v.stops]
            waived = [v for v in case.violations if v.waived is not None]
            if errors:
                counts["failures"] += 1
                failure = ET.SubElement(element, "failure", type=case.check, message=_first(errors))
                failure.text = "\n".join(v.text() for v in errors)
            elif waived:
                counts["skipped"] += 1
                ET.SubElement(element, "skipped", message=f"waived: {waived[0].waived}")
            warnings = [v for v in case.violations if not v.stops and v.waived is None]
            if warnings:
                ET.SubElement(element, "system-out").text = "\n".join(v.text() for v in warnings)
        suite.attrib.update({k: str(n) for k, n in counts.items()}, errors="0")
        for k, n in counts.items():
            totals[k] += n
    root.attrib.update({k: str(n) for k, n in totals.items()}, errors="0")
    tree = ET.ElementTree(root)
    ET.indent(tree)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tree.write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise PyvelaError(
            f"cannot write the JUnit report {path}: {exc.strerror}", fix="give a writable --junit FILE"
        ) from None


def _first(violations: Sequence[Violation]) -> str:
    first = violations[0]
    more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
    return f"{first.message}{more}"
