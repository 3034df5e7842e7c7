"""Load-time checks of an Application's shape: value types, Kubernetes names, timeouts.

The validator in ``application`` checks the app against its catalogue; these checks come
first, so a wrong value (a string where a component belongs, a name the API server would
reject, a timeout that can never hold) is one error at the app's line instead of a
traceback in validation or a failure late in a deploy.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pyvela._core.definitions import ComponentUse, PolicyUse, TraitUse
from pyvela._core.steps import StepGroup, StepUse
from pyvela.errors import AppError, Location

#: RFC 1123 label, as Kubernetes checks object names, label values of ours and namespaces.
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_LABEL_MAX = 63


def dns_label_problem(name: object) -> str | None:
    """Why ``name`` is not a DNS-1123 label, or None when it is one."""
    if not isinstance(name, str):
        return f"a {type(name).__name__}, not a str"
    if not name:
        return "empty"
    if len(name) > DNS_LABEL_MAX:
        return f"{len(name)} characters long (at most {DNS_LABEL_MAX})"
    if not name.isascii():
        return "not ASCII"
    if _DNS_LABEL.fullmatch(name) is None:
        if name != name.lower():
            return "has uppercase letters"
        return "has characters other than a-z, 0-9 and '-', or starts or ends with '-'"
    return None


def check_dns_label(name: object, what: str, where: Location, **context: Any) -> None:
    problem = dns_label_problem(name)
    if problem is None:
        return
    suggestion = re.sub(r"[^a-z0-9-]+", "-", str(name).lower()).strip("-")[:DNS_LABEL_MAX].strip("-")
    raise AppError(
        f"{what} {name!r} is not a valid Kubernetes name: {problem}",
        where=where,
        expected="a DNS-1123 label: at most 63 of a-z, 0-9 and '-', starting and ending alphanumeric",
        got=repr(name),
        fix=f"rename it, e.g. {suggestion!r}" if suggestion else "rename it",
        **context,
    )


def check_timeout(value: object, what: str, where: Location, **context: Any) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise AppError(
            f"{what} must be a positive number of seconds",
            where=where,
            expected="seconds > 0 (finite: nothing may wait forever)",
            got=repr(value),
            fix="e.g. .with_timeout(300)",
            **context,
        )


def _shown(value: object) -> str:
    """What was given instead of a use: a definition left uncalled by its name (its repr holds
    its whole docstring), anything else by a short repr."""
    name = getattr(value, "name", None)
    if type(value).__name__.endswith("Definition") and isinstance(name, str):
        return f"the {type(value).__name__} {name!r} itself, not called"
    return f"{value!r:.80} ({type(value).__name__})"


def check_shape(app: Any) -> None:
    """Raise AppError (at the app's line, or the offending use's) for a malformed app."""
    where: Location = app.where
    if not isinstance(app.name, str):
        raise AppError(
            "the Application's name must be a str",
            where=where,
            expected='Application("my-app", components=[...])',
            got=f"{app.name!r} ({type(app.name).__name__})",
        )
    check_dns_label(app.name, "application name", where, app=app.name)
    check_dns_label(app.namespace, "namespace", where, app=app.name)
    for c in app.components:
        if not isinstance(c, ComponentUse):
            raise AppError(
                "components must be made by calling a component definition",
                where=where,
                app=app.name,
                expected='a component use, e.g. base_service("web", image=...)',
                got=_shown(c),
                fix="call the definition with the component's name and parameters",
            )
        check_dns_label(c.name, "component name", c.where, component=c.name)
        for t in c.traits:
            if not isinstance(t, TraitUse):
                raise AppError(
                    "traits must be made by calling a trait definition",
                    where=c.where,
                    component=c.name,
                    expected="a trait use, e.g. .with_traits(scaler(replicas=2))",
                    got=_shown(t),
                    fix="call the trait definition with its parameters",
                )
        _check_order(c, "component", component=c.name)
    for p in app.policies:
        if not isinstance(p, PolicyUse):
            raise AppError(
                "policies must be made by calling a policy definition",
                where=where,
                app=app.name,
                expected="a policy use, e.g. topology(clusters=[...])",
                got=_shown(p),
                fix="call the policy definition with its parameters",
            )
    wf = app.workflow
    if wf is None:
        return
    check_timeout(wf.step_timeout, "the workflow's step_timeout", where, app=app.name)
    _check_mode(wf.mode, "the workflow's mode", where, app=app.name)
    for node in wf.steps:
        if isinstance(node, StepGroup):
            check_timeout(
                node.timeout, f"the timeout of step group {node.name!r}", node.where, step=node.name
            )
            _check_mode(node.mode, f"the mode of step group {node.name!r}", node.where, step=node.name)
            _check_condition(node.condition, f"step group {node.name!r}", node.where, step=node.name)
            _check_order(node, "step", step=node.name)
            if not node.steps:
                raise AppError(
                    f"step group {node.name!r} has no steps",
                    where=node.where,
                    step=node.name,
                    expected="at least one step",
                    got="steps=[]",
                    fix="give it its steps, or leave the group out of the workflow",
                )
            inner = node.steps
        else:
            inner = (node,)
        for s in inner:
            if not isinstance(s, StepUse):
                kind = "a component" if isinstance(s, ComponentUse) else type(s).__name__
                raise AppError(
                    "a workflow holds steps and step groups only",
                    where=getattr(s, "where", where) if isinstance(s, ComponentUse) else where,
                    app=app.name,
                    expected='a step use, e.g. apply_base("apply-web", component="web")',
                    got=f"{getattr(s, 'name', s)!r} ({kind})",
                    fix="omit workflow= to apply every component in order, or wrap it in its apply step",
                )
            check_timeout(s.timeout, f"the timeout of step {s.name!r}", s.where, step=s.name)
            _check_condition(s.condition, f"step {s.name!r}", s.where, step=s.name)
            _check_order(s, "step", step=s.name)
            if s.retries is not None and s.retries < 0:  # read as no retry: say so instead
                raise AppError(
                    f"the retries of step {s.name!r} must be 0 or more",
                    where=s.where,
                    step=s.name,
                    expected="retries >= 0",
                    got=repr(s.retries),
                    fix="e.g. .with_retries(3), or leave it out for none",
                )


def _check_mode(mode: object, what: str, where: Location, **context: Any) -> None:
    if mode not in ("StepByStep", "DAG"):
        raise AppError(
            f"{what} is not a mode",
            where=where,
            expected="'StepByStep' or 'DAG'",
            got=repr(mode),
            fix='mode="DAG" (only dependencies order the steps) or mode="StepByStep" (one after the other)',
            **context,
        )


def _check_condition(condition: object, what: str, where: Location, **context: Any) -> None:
    if callable(condition) or condition in ("always", "on-success"):
        return
    raise AppError(
        f"the .when() condition of {what} is not a condition",
        where=where,
        expected="'always', 'on-success', or a predicate (lambda wf: wf.phase(step) == 'failed')",
        got=f"{condition!r:.80}",
        fix='.when("always") to run it whatever its dependencies did, or a predicate over the workflow',
        **context,
    )


def _check_order(use: Any, kind: str, **context: Any) -> None:
    for dep in use.dependencies:
        if not isinstance(dep, str):
            raise AppError(
                f"{kind} {use.name!r} is ordered after {dep!r:.80} ({type(dep).__name__}), "
                f"which names no {kind}",
                where=use.where,
                expected=f"a {kind} or its name: .after(other) or .after('other-name')",
                got=f"{dep!r:.80}",
                fix=f"pass the {kind} object or its name to .after()",
                **context,
            )
