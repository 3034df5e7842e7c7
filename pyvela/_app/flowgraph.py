"""The workflow as a graph: steps, groups, dependencies, data references and conditions.

Pure data, built either from a validated :class:`~pyvela._app.application.Plan` (``pyvela
graph``) or from the app spec a revision recorded (the dashboard, which has no app file);
both give the same graph for the same app, since the spec is written from the plan. Phases
of a run are laid over it with :meth:`WorkflowGraph.with_phases`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from pyvela._app.application import Plan
from pyvela._core.params import params_to_data

#: The phases a step's state may have, in the order a legend lists them.
PHASES = ("pending", "running", "suspending", "suspended", "succeeded", "failed", "skipped", "terminated")
_REF_KEY = "$ref"
_OUTPUTS = ".outputs."


@attrs.frozen
class Carried:
    """One step output a reference passes: ``output`` of the upstream step into ``parameter``."""

    output: str
    parameter: str

    def __str__(self) -> str:
        return f"{self.output} → {self.parameter}"


@attrs.frozen
class GraphStep:
    """A node: one step of the workflow."""

    name: str
    type: str
    group: str | None = None
    #: When it runs: "" (after its dependencies succeeded), "always", or a predicate's text.
    condition: str = ""
    phase: str | None = None


@attrs.frozen
class GraphEdge:
    """``downstream`` runs after ``upstream``; ``carries`` the outputs it reads (none: order only)."""

    upstream: str
    downstream: str
    carries: tuple[Carried, ...] = ()

    @property
    def label(self) -> str:
        return ", ".join(map(str, self.carries))


@attrs.frozen
class WorkflowGraph:
    app: str
    mode: str
    steps: tuple[GraphStep, ...]  # in the plan's (topological) order
    edges: tuple[GraphEdge, ...]  # sorted by (upstream's position, downstream's position)
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def step(self, name: str) -> GraphStep:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def with_phases(self, phases: Mapping[str, str]) -> WorkflowGraph:
        """The same graph, each step coloured by its phase in ``phases`` (absent: none)."""
        return attrs.evolve(self, steps=tuple(attrs.evolve(s, phase=phases.get(s.name)) for s in self.steps))

    def to_dict(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "mode": self.mode,
            "steps": [attrs.asdict(s) for s in self.steps],
            "edges": [
                {
                    "from": e.upstream,
                    "to": e.downstream,
                    "carries": [{"output": c.output, "parameter": c.parameter} for c in e.carries],
                }
                for e in self.edges
            ],
            "groups": {name: list(members) for name, members in self.groups},
        }


def condition_text(condition: Any) -> str:
    """How a step's run condition is shown: what the app spec records, "" for the default."""
    if isinstance(condition, str):
        return "" if condition == "on-success" else condition
    return str(getattr(condition, "text", "<predicate>"))


def graph_of_plan(app: str, plan: Plan) -> WorkflowGraph:
    """The graph of a validated plan."""
    rows = [
        {
            "name": n,
            "type": plan.steps[n].use.definition.name,
            "properties": params_to_data(plan.steps[n].use.params),
            "dependsOn": sorted(plan.steps[n].dependencies),
            "if": condition_text(plan.steps[n].condition),
        }
        for n in plan.order
    ]
    return _build(app, plan.mode, rows, plan.groups)


def graph_of_spec(
    spec: Mapping[str, Any], groups: Mapping[str, Sequence[str]] | None = None
) -> WorkflowGraph:
    """The graph of an app spec as a revision records it (``application.app_spec``).

    Groups are not part of the spec (they do not change what runs, so not the revision
    either); a revision keeps them beside it, and passes them here.
    """
    workflow = spec.get("workflow") or {}
    return _build(
        str(spec.get("name") or ""),
        str(workflow.get("mode") or "StepByStep"),
        list(workflow.get("steps") or []),
        groups or {},
    )


def _build(
    app: str, mode: str, rows: Sequence[Mapping[str, Any]], groups: Mapping[str, Sequence[str]]
) -> WorkflowGraph:
    group_of = {member: g for g, members in groups.items() for member in members}
    position = {str(r["name"]): i for i, r in enumerate(rows)}
    steps = tuple(
        GraphStep(
            name=str(r["name"]),
            type=str(r.get("type") or ""),
            group=group_of.get(str(r["name"])),
            condition=condition_text(r.get("if", "on-success")),
        )
        for r in rows
    )
    edges: list[GraphEdge] = []
    for r in rows:
        name = str(r["name"])
        carried: dict[str, list[Carried]] = {}
        for parameter, step, output in references(r.get("properties") or {}):
            carried.setdefault(step, []).append(Carried(output, parameter))
        upstream = set(r.get("dependsOn") or ()) | set(carried)
        edges += [
            GraphEdge(u, name, tuple(carried.get(u, ()))) for u in upstream if u in position and u != name
        ]
    edges.sort(key=lambda e: (position[e.upstream], position[e.downstream]))
    return WorkflowGraph(
        app=app,
        mode=mode,
        steps=steps,
        edges=tuple(edges),
        groups=tuple((g, tuple(members)) for g, members in groups.items()),
    )


def references(properties: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(parameter path, step, output)`` for every step-output reference in ``properties``.

    A reference nested in a parameter (a field of a parameter class, an item of a list)
    is named by its path: ``message.text``, ``ports[0]``.
    """
    found: list[tuple[str, str, str]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            ref = value.get(_REF_KEY) if len(value) == 1 else None
            if isinstance(ref, str) and _OUTPUTS in ref:
                step, _, output = ref.partition(_OUTPUTS)
                found.append((path, step, output))
                return
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")

    walk(properties, "")
    return found


def phases_of(steps: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Each step's phase, from a revision's step states."""
    return {name: str(st.get("phase") or "pending") for name, st in steps.items()}


def depths(graph: WorkflowGraph) -> dict[str, int]:
    """How many steps lie, at most, before each step (the column a layered drawing puts it in)."""
    before: dict[str, list[str]] = {s.name: [] for s in graph.steps}
    for e in graph.edges:
        before[e.downstream].append(e.upstream)
    out: dict[str, int] = {}
    for s in graph.steps:  # topological order: every upstream is already placed
        out[s.name] = 1 + max((out.get(u, 0) for u in before[s.name]), default=-1)
    return out
