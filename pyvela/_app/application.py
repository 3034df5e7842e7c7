"""Applications: components, a workflow and policies, validated as a whole at load time."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from pyvela._app.catalogue import Catalogue
from pyvela._app.checks import check_shape
from pyvela._app.references import unknown_component, unknown_step
from pyvela._core.builtin import apply_component
from pyvela._core.definitions import ComponentUse, PolicyUse
from pyvela._core.graph import find_cycle, topo_order
from pyvela._core.params import Ref, caller_location, component_names_in, field_names, params_to_data
from pyvela._core.sequences import as_tuple
from pyvela._core.steps import (
    Condition,
    Mode,
    StepGroup,
    StepUse,
    UnknownStep,
    WorkflowView,
    where_of_condition,
)
from pyvela.errors import AppError, CycleError, DanglingReferenceError, DuplicateNameError, Location

DEFAULT_STEP_TIMEOUT = 600.0


# Typed converters: type checkers take a converter's parameter as the constructor's, so
# `Workflow(steps=[...])` is accepted by mypy --strict and pyright alike (``tuple`` as a
# converter makes mypy demand a tuple), and a wrong item type is still an error.
def _steps(value: Iterable[StepUse[Any, Any] | StepGroup]) -> tuple[StepUse[Any, Any] | StepGroup, ...]:
    return as_tuple(value, "steps", "Workflow", "Workflow(steps=[first, second])")


def _components(value: Iterable[ComponentUse[Any]]) -> tuple[ComponentUse[Any], ...]:
    return as_tuple(value, "components", "the Application", "components=[web]")


def _policies(value: Iterable[PolicyUse[Any]]) -> tuple[PolicyUse[Any], ...]:
    return as_tuple(value, "policies", "the Application", "policies=[topology(...)]")


@attrs.frozen(kw_only=True)
class Workflow:
    """An app's workflow.

    Args:
        steps: Steps and step groups, in order.
        mode: ``StepByStep`` (each step after the previous one) or ``DAG`` (only
            depends-on and data references order steps; independent steps run in parallel).
        step_timeout: Default timeout of each step, in seconds. Nothing waits forever.
    """

    steps: tuple[StepUse[Any, Any] | StepGroup, ...] = attrs.field(converter=_steps)
    mode: Mode = "StepByStep"
    step_timeout: float = DEFAULT_STEP_TIMEOUT


def _workflow(value: Workflow | Sequence[StepUse[Any, Any] | StepGroup] | None) -> Workflow | None:
    if value is None or isinstance(value, Workflow):
        return value
    return Workflow(steps=as_tuple(value, "workflow", "the Application", "workflow=[first, second]"))


@attrs.frozen
class Application:
    """An application: what to deploy (components) and how (workflow, policies).

    Args:
        name: The application's name (a DNS label).
        components: The components, each made by calling a component definition.
        workflow: A :class:`Workflow` or a list of steps (StepByStep). When omitted, each
            component gets a built-in ``apply-component`` step, ordered by ``.after()`` (DAG).
        policies: Policies, each made by calling a policy definition.
        namespace: The namespace to deploy into.
    """

    name: str
    components: tuple[ComponentUse[Any], ...] = attrs.field(kw_only=True, converter=_components)
    workflow: Workflow | None = attrs.field(kw_only=True, default=None, converter=_workflow)
    policies: tuple[PolicyUse[Any], ...] = attrs.field(kw_only=True, default=(), converter=_policies)
    namespace: str = attrs.field(kw_only=True, default="default")
    where: Location = attrs.field(kw_only=True, factory=lambda: caller_location(3), eq=False)
    # Filled on first use: steps look components up by name, thousands of times in a big app.
    _by_name: dict[str, ComponentUse[Any]] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    def component(self, name: str) -> ComponentUse[Any]:
        if not self._by_name:
            self._by_name.update((c.name, c) for c in self.components)
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(name) from None


@attrs.frozen(kw_only=True)
class PlannedStep:
    """One runnable step with every dependency resolved (groups flattened)."""

    name: str
    use: StepUse[Any, Any]
    dependencies: frozenset[str]
    condition: Condition
    timeout: float
    group: str | None = None


@attrs.frozen(kw_only=True)
class Plan:
    """The validated step graph of an app, in a stable topological order."""

    mode: Mode
    steps: Mapping[str, PlannedStep]
    order: tuple[str, ...]
    groups: Mapping[str, tuple[str, ...]]


def default_workflow(app: Application) -> Workflow:
    """One built-in ``apply-component`` step per component, ordered by component dependencies."""
    steps = [_builtin_step(c.name, c.where, tuple(c.dependencies)) for c in app.components]
    return Workflow(steps=steps, mode="DAG")


def _builtin_step(name: str, where: Location, deps: tuple[str, ...] = ()) -> StepUse[Any, None]:
    params = apply_component.params(component=name)
    return StepUse(name=name, definition=apply_component, params=params, where=where, dependencies=deps)


def validate(app: Application, catalogue: Catalogue) -> Plan | None:
    """Check the whole app; return its step plan, or None for the default one (:func:`default_plan`).

    Raises:
        UnknownDefinitionError, DuplicateNameError, DanglingReferenceError, CycleError,
        AppError: with the app file and line of the offending use.
    """
    if not isinstance(app, Application):
        raise AppError("`app` is not a pyvela Application", got=type(app).__name__)
    check_shape(app)
    seen: dict[str, ComponentUse[Any]] = {}
    for c in app.components:
        if c.name in seen:
            raise DuplicateNameError(
                f"two components are named {c.name!r}",
                where=c.where,
                component=c.name,
                got=f"first defined at {seen[c.name].where}",
                fix="rename one of them",
            )
        seen[c.name] = c
        catalogue.require(c.definition, where=c.where, component=c.name)
        for t in c.traits:
            catalogue.require(t.definition, where=t.where, component=c.name, trait=t.definition.name)
            kinds = t.definition.applies_to
            if kinds and not c.definition.workload.any and c.definition.workload.kind not in kinds:
                raise AppError(
                    f"trait {t.definition.name!r} cannot be attached to a {c.definition.workload.kind}",
                    where=t.where,
                    component=c.name,
                    expected=", ".join(kinds),
                    got=c.definition.workload.kind,
                    fix=f"attach it to a component whose workload is a {' or '.join(kinds)}, or remove it",
                )
    for p in app.policies:
        catalogue.require(p.definition, where=p.where)
    if app.policies:  # the policies' modules only for an app that has some
        from pyvela._core.policies_builtin import check_policies

        check_policies(app.policies, components=seen, names=catalogue.names)
    if app.workflow is not None:
        _refuse_component_order(app)
    component_deps = {c.name: c.dependencies for c in app.components}
    for c in app.components:
        for dep in c.dependencies:
            if dep not in seen:
                raise unknown_component(c, dep, seen)
    cycle = find_cycle(component_deps)
    if cycle:
        raise CycleError(
            "components depend on each other in a cycle: " + " -> ".join(cycle),
            where=seen[cycle[0]].where,
            cycle=" -> ".join(cycle),
            fix="remove one of the .after() links",
        )
    steps: list[StepUse[Any, Any]] = []
    if app.policies or app.workflow is not None:  # else there is nothing to check or generate
        from pyvela._app.deploysteps import cluster_steps

        steps = cluster_steps(app, catalogue, components=seen)  # checks the multi-cluster policies too
    if app.workflow is None and not steps:  # the default steps' names, links, cycles: checked above
        for c in app.components[:1]:  # but a team's own `apply-component` step refuses them
            catalogue.require(apply_component, where=c.where, step=c.name)
        return None
    return _plan(app, app.workflow or Workflow(steps=steps, mode="DAG"), catalogue, set(seen))


def default_plan(app: Application, catalogue: Catalogue) -> Plan:
    """The plan of :func:`default_workflow`: a step object per component, costly to build."""
    return _plan(app, default_workflow(app), catalogue, {c.name for c in app.components})


def _refuse_component_order(app: Application) -> None:
    # `.after()` on components orders the default apply-component steps; with a workflow
    # the steps are the order, and ignoring the call would leave the app's author wrong.
    for c in app.components:
        if c.dependencies:
            raise AppError(
                f"component {c.name!r} is ordered with .after({', '.join(map(repr, c.dependencies))}), "
                "which only orders an app without a workflow",
                where=c.where,
                component=c.name,
                expected="no .after() on components of an app with a workflow",
                got=f".after({', '.join(map(repr, c.dependencies))})",
                fix="order the workflow's steps instead (apply_x.after(apply_y)), or leave out the "
                "workflow so the components' .after() orders their apply-component steps",
            )


def _plan(app: Application, wf: Workflow, catalogue: Catalogue, components: set[str]) -> Plan:
    planned: dict[str, PlannedStep] = {}
    groups: dict[str, tuple[str, ...]] = {}
    where_of: dict[str, Location] = {}
    previous: tuple[str, ...] = ()

    def leaves_of(node: StepUse[Any, Any] | StepGroup) -> tuple[str, ...]:
        return tuple(s.name for s in node.steps) if isinstance(node, StepGroup) else (node.name,)

    def check_name(name: str, where: Location) -> None:
        if name in where_of:
            raise DuplicateNameError(
                f"two steps are named {name!r}",
                where=where,
                step=name,
                got=f"first defined at {where_of[name]}",
                fix="rename one of them",
            )
        where_of[name] = where

    for node in wf.steps:
        check_name(node.name, node.where)
        entry_deps = set(previous) if wf.mode == "StepByStep" else set()
        if isinstance(node, StepGroup):
            groups[node.name] = leaves_of(node)
            inner_prev: tuple[str, ...] = ()
            for s in node.steps:
                check_name(s.name, s.where)
                deps = set(entry_deps) | set(node.dependencies) | set(s.dependencies)
                if node.mode == "StepByStep":
                    deps |= set(inner_prev)
                cond = s.condition if s.condition != "on-success" else node.condition
                timeout = s.timeout or node.timeout or wf.step_timeout
                planned[s.name] = _planned(s, deps, cond, timeout, node.name)
                inner_prev = (s.name,)
        else:
            deps = entry_deps | set(node.dependencies)
            planned[node.name] = _planned(node, deps, node.condition, node.timeout or wf.step_timeout, None)
        previous = leaves_of(node)

    # Expand group names used as dependencies into the group's steps; check references.
    final: dict[str, PlannedStep] = {}
    for name, ps in planned.items():
        resolved: set[str] = set()
        for dep in ps.dependencies:
            if dep in groups:
                resolved |= set(groups[dep]) - {name}
            elif dep in planned:
                resolved.add(dep)
            else:
                raise unknown_step(name, dep, ps.use, [*planned, *groups], wf.steps)
        for param, ref in _refs(ps.use):
            if ref.step not in planned:
                raise DanglingReferenceError(
                    f"parameter {param!r} of step {name!r} refers to unknown step {ref.step!r}",
                    where=ps.use.where,
                    step=name,
                    parameter=param,
                    expected="one of " + ", ".join(planned),
                    got=str(ref),
                )
            resolved.add(ref.step)
        for param, comp in component_names_in(ps.use.params):
            if comp not in components:
                raise DanglingReferenceError(
                    f"step {name!r} names unknown component {comp!r}",
                    where=ps.use.where,
                    step=name,
                    parameter=param,
                    expected="one of " + ", ".join(sorted(components)),
                    got=repr(comp),
                    fix=f"name a component of the app: {', '.join(map(repr, sorted(components)))}",
                )
        catalogue.require(ps.use.definition, where=ps.use.where, step=name)
        # Not evolve (faster); and most steps' dependencies are already resolved.
        final[name] = (
            ps
            if ps.dependencies == resolved
            else _planned(ps.use, resolved, ps.condition, ps.timeout, ps.group)
        )
    _probe_conditions(final)
    edges = {n: sorted(ps.dependencies) for n, ps in final.items()}
    cycle = find_cycle(edges)
    if cycle:
        raise CycleError(
            "steps depend on each other in a cycle: " + " -> ".join(cycle),
            where=final[cycle[0]].use.where,
            step=cycle[0],
            cycle=" -> ".join(cycle),
            fix="remove a depends-on (.after) or a reference to a later step's outputs",
        )
    return Plan(mode=wf.mode, steps=final, order=tuple(topo_order(edges)), groups=groups)


def _probe_conditions(steps: Mapping[str, PlannedStep]) -> None:
    """Call each ``.when`` predicate once with every step pending, to catch the step names it
    asks about that the workflow does not have (predicates are pure: the call is harmless).
    Anything else a predicate does with that view is judged when it really runs."""
    view = WorkflowView(phases={n: "pending" for n in steps}, outputs={})
    for name, ps in steps.items():
        if not callable(ps.condition):
            continue
        try:
            ps.condition(view)
        except UnknownStep as exc:
            raise DanglingReferenceError(
                f"the .when() condition of step {name!r} asks about unknown step {exc.name!r}",
                where=where_of_condition(ps.condition, exc) or ps.use.where,
                step=name,
                expected="one of " + ", ".join(exc.known),
                got=repr(exc.name),
                fix=f"ask about a step of the workflow: {', '.join(map(repr, exc.known))}",
            ) from None
        except Exception:
            continue


def _planned(
    s: StepUse[Any, Any], deps: set[str], cond: Condition, timeout: float, group: str | None
) -> PlannedStep:
    return PlannedStep(
        name=s.name, use=s, dependencies=frozenset(deps), condition=cond, timeout=timeout, group=group
    )


def _refs(use: StepUse[Any, Any]) -> list[tuple[str, Ref]]:
    params = use.params
    return [
        (name, value) for name in field_names(type(params)) if isinstance(value := getattr(params, name), Ref)
    ]


def app_spec(app: Application, plan: Plan) -> dict[str, Any]:
    """The app as JSON-like data: what the revision hash and ``status`` describe."""
    return {
        "name": app.name,
        "namespace": app.namespace,
        "components": [
            {
                "name": c.name,
                "type": c.definition.name,
                "properties": params_to_data(c.params),
                "traits": [
                    {"type": t.definition.name, "properties": params_to_data(t.params)} for t in c.traits
                ],
                "dependsOn": list(c.dependencies),
            }
            for c in app.components
        ],
        "workflow": {
            "mode": plan.mode,
            "steps": [
                {
                    "name": n,
                    "type": plan.steps[n].use.definition.name,
                    "properties": params_to_data(plan.steps[n].use.params),
                    "dependsOn": sorted(plan.steps[n].dependencies),
                    "if": plan.steps[n].condition
                    if isinstance(plan.steps[n].condition, str)
                    else str(getattr(plan.steps[n].condition, "text", "<predicate>")),
                    "timeout": plan.steps[n].timeout,
                }
                for n in plan.order
            ],
        },
        "policies": [
            {"name": p.name, "type": p.definition.name, "properties": params_to_data(p.params)}
            for p in app.policies
        ],
    }


def revision_hash(spec: Mapping[str, Any], catalogue: Catalogue) -> str:
    """The revision of an app: changes when the app or any definition changes."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode())
    digest.update(catalogue.fingerprint().encode())
    return digest.hexdigest()[:16]
