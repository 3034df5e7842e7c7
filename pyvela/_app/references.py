"""The errors for an order (``.after()``, KubeVela's ``dependsOn``) naming a step or a
component the app does not have: where the call is, the names that exist, the closest one.

Kept out of ``application`` so that validation stays a list of checks; the wording of these
messages is what an app's author reads when a name is mistyped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pyvela._core.definitions import ComponentUse
from pyvela._core.steps import StepGroup, StepUse
from pyvela.errors import DanglingReferenceError, Location, WorkflowError


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` was most likely meant to be (a typo), or None."""
    import difflib  # only for an error: not imported by every load

    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _listing(known: Iterable[str]) -> str:
    names = sorted(set(known))
    return ", ".join(map(repr, names)) if names else "(none)"


def _is_yaml(owner: Any) -> bool:
    # A KubeVela YAML app's steps carry their order as dependsOn; Python apps call .after().
    where = getattr(owner, "where", None)
    return str(getattr(where, "file", "") or "").endswith((".yaml", ".yml"))


def _fix(owner: Any, dep: str, others: list[str], guess: str | None, what: str, into: str) -> str:
    target = guess if guess is not None else (sorted(others)[0] if others else None)
    if target is None:
        return f"remove the order on {dep!r}, or add a {what} named {dep!r} to the {into}"
    call = f"dependsOn: [{target}]" if _is_yaml(owner) else f".after({target!r})"
    lead = f"write {call}" if guess is not None else f"name an existing {what}, e.g. {call}"
    return f"{lead}, or add a {what} named {dep!r} to the {into}"


def _message(owner: Any, dep: str, into: str, what: str) -> str:
    call = "dependsOn" if _is_yaml(owner) else ".after()"
    return f"ordered after unknown {what.split()[0]} {dep!r} ({call}): the {into} has no {what} of that name"


def _group_after_at(steps: Iterable[StepUse[Any, Any] | StepGroup], step: str) -> Mapping[str, Location]:
    for node in steps:
        if isinstance(node, StepGroup) and any(s.name == step for s in node.steps):
            return node.after_at
    return {}


def unknown_step(
    step: str,
    dep: str,
    use: StepUse[Any, Any],
    known: Iterable[str],
    workflow_steps: Iterable[StepUse[Any, Any] | StepGroup] = (),
) -> DanglingReferenceError:
    """Step ``step`` is ordered after ``dep``, which is neither a step nor a group of the workflow."""
    others = [n for n in known if n != step]
    where = use.after_at.get(dep) or _group_after_at(workflow_steps, step).get(dep) or use.where
    guess = closest(dep, others)
    if others:
        expected = "one of the workflow's other steps or groups: " + _listing(others)
    else:
        expected = f"the name of another step, but the workflow has no other step than {step!r}"
    if guess is not None:
        expected += f" (did you mean {guess!r}?)"
    return DanglingReferenceError(
        _message(use, dep, "workflow", "step or group"),
        where=where,
        step=step,
        expected=expected,
        got=repr(dep),
        fix=_fix(use, dep, others, guess, "step", "workflow"),
    )


def unknown_component(c: ComponentUse[Any], dep: str, known: Iterable[str]) -> DanglingReferenceError:
    """Component ``c`` is ordered after ``dep``, which is not a component of the app."""
    others = [n for n in known if n != c.name]
    guess = closest(dep, others)
    # The component itself is left out (it cannot follow itself): say so rather than list "(none)".
    if others:
        expected = "one of the app's other components: " + _listing(others)
    else:
        expected = f"the name of another component, but the app has no other component than {c.name!r}"
    if guess is not None:
        expected += f" (did you mean {guess!r}?)"
    return DanglingReferenceError(
        _message(c, dep, "app", "component"),
        where=c.after_at.get(dep) or c.where,
        component=c.name,
        expected=expected,
        got=repr(dep),
        fix=_fix(c, dep, others, guess, "component", "app"),
    )


def no_such_step(step: str, known: Iterable[str], *, option: str = "--step") -> WorkflowError:
    """``option`` names a step the app's workflow does not have (``workflow restart --step``)."""
    names = list(known)
    guess = closest(step, names)
    return WorkflowError(
        f"the workflow has no step named {step!r}: nothing was run",
        expected="one of " + _listing(names) + (f" (did you mean {guess!r}?)" if guess else ""),
        got=repr(step),
        fix=f"{option} {guess}" if guess else f"{option} with a step `pyvela status APP` lists",
    )
