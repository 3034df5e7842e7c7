"""The workflow graph model (``pyvela graph``, the dashboard): steps, groups, DAG edges,
conditions and data references, from the plan and from the spec a revision records."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela import load_app
from pyvela._app.flowgraph import Carried, GraphEdge, depths, graph_of_plan, graph_of_spec, references
from pyvela._app.flowtext import to_dot, to_mermaid
from tests.conftest import ROOT

WriteApp = Callable[..., Path]
GOLDEN = ROOT / "tests" / "golden"
DEFS = ["tests.sample_defs"]
HEADER = """
from pyvela import Application, StepGroup, Workflow
from tests.sample_defs import echo, noop
"""


def _graph(write_app: WriteApp, body: str):  # type: ignore[no-untyped-def]
    loaded = load_app(write_app(HEADER + body), defs=DEFS)
    graph = graph_of_plan(loaded.app.name, loaded.plan)
    # The dashboard draws from the recorded spec: the same graph, so one model serves both.
    assert graph == graph_of_spec(loaded.spec, loaded.plan.groups)
    return graph


def _edges(graph) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {(e.upstream, e.downstream, e.label) for e in graph.edges}


def test_step_by_step_orders_each_step_after_the_previous(write_app: WriteApp) -> None:
    graph = _graph(
        write_app,
        """
a = noop("a"); b = noop("b"); c = noop("c")
app = Application("x", components=[], workflow=[a, b, c])
""",
    )
    assert [s.name for s in graph.steps] == ["a", "b", "c"]
    assert [s.type for s in graph.steps] == ["noop"] * 3
    assert _edges(graph) == {("a", "b", ""), ("b", "c", "")}
    assert graph.mode == "StepByStep" and depths(graph) == {"a": 0, "b": 1, "c": 2}


def test_a_dag_has_only_the_declared_edges_and_a_reference_carries_its_output(write_app: WriteApp) -> None:
    graph = _graph(
        write_app,
        """
a = echo("a", text="hi")
b = noop("b")
c = echo("c", text=a.outputs.value).after(b)
d = noop("d")
app = Application("x", components=[], workflow=Workflow(steps=[a, b, c, d], mode="DAG"))
""",
    )
    assert _edges(graph) == {("a", "c", "value → text"), ("b", "c", "")}
    ref = next(e for e in graph.edges if e.upstream == "a")
    assert ref == GraphEdge("a", "c", (Carried("value", "text"),))
    assert depths(graph) == {"a": 0, "b": 0, "c": 1, "d": 0}
    # A reference drawn as a plain order edge would lose what flows: the label is the point.
    assert '"a" -> "c" [id="edge-a-c", label="value → text"' in to_dot(graph)
    assert 's0 -- "value → text" --> s2' in to_mermaid(graph)


def test_groups_hold_their_steps_and_a_step_after_a_group_follows_each_of_them(write_app: WriteApp) -> None:
    graph = _graph(
        write_app,
        """
first = noop("first")
g = StepGroup(name="both", steps=[noop("g1"), noop("g2")])
last = noop("last")
app = Application("x", components=[], workflow=[first, g, last])
""",
    )
    assert graph.groups == (("both", ("g1", "g2")),)
    assert graph.step("g1").group == "both" and graph.step("first").group is None
    assert _edges(graph) == {("first", "g1", ""), ("first", "g2", ""), ("g1", "last", ""), ("g2", "last", "")}
    dot = to_dot(graph)
    assert "subgraph cluster_0 {" in dot and 'label="both"' in dot
    mermaid = to_mermaid(graph)
    assert 'subgraph g0["both"]' in mermaid
    inside = mermaid.split('subgraph g0["both"]')[1].split("end")[0]
    assert "g1" in inside and "g2" in inside and "first" not in inside


def test_conditions_are_labelled_and_drawn_dashed(write_app: WriteApp) -> None:
    graph = _graph(
        write_app,
        """
a = noop("a")
b = noop("b").when("always")
c = noop("c").when(lambda wf: wf.phase("a") == "failed")
app = Application("x", components=[], workflow=[a, b, c])
""",
    )
    assert [s.condition for s in graph.steps] == ["", "always", "<predicate>"]
    assert "if: always" in to_mermaid(graph) and "stroke-dasharray" in to_mermaid(graph)
    assert (
        'label="b\\nnoop\\nif: always", fillcolor="#ffffff", color="#607d8b", style="rounded,filled,dashed"'
        in (to_dot(graph))
    )


def test_phases_colour_the_steps(write_app: WriteApp) -> None:
    graph = _graph(
        write_app,
        """
a = noop("a"); b = noop("b")
app = Application("x", components=[], workflow=[a, b])
""",
    ).with_phases({"a": "succeeded", "b": "failed"})
    assert [s.phase for s in graph.steps] == ["succeeded", "failed"]
    mermaid = to_mermaid(graph)
    assert "class s0 succeeded" in mermaid and "class s1 failed" in mermaid
    assert "classDef succeeded fill:#c8e6c9" in mermaid
    assert 'fillcolor="#ffcdd2"' in to_dot(graph)


def test_names_and_labels_are_escaped() -> None:
    graph = graph_of_spec(
        {
            "name": 'q"uote',
            "workflow": {
                "mode": "DAG",
                "steps": [
                    {"name": "a", "type": "t", "if": 'x == "<b>"', "properties": {}},
                    {"name": "b", "type": "t", "properties": {"p": {"$ref": "a.outputs.o"}}},
                ],
            },
        }
    )
    assert "#quot;#lt;b#gt;#quot;" in to_mermaid(graph)
    dot = to_dot(graph)
    assert 'digraph "q\\"uote"' in dot and 'if: x == \\"<b>\\"' in dot


def test_references_nested_in_parameters_are_named_by_their_path() -> None:
    properties = {
        "message": {"text": {"$ref": "a.outputs.body"}, "level": "info"},
        "targets": [{"$ref": "b.outputs.ip"}, "plain"],
        "literal": {"$ref": "not a step output"},
    }
    assert references(properties) == [("message.text", "a", "body"), ("targets[0]", "b", "ip")]


def test_an_edge_to_a_step_the_spec_does_not_have_is_dropped() -> None:
    # A recorded spec is data read back from a cluster: a bad one must not break the drawing.
    graph = graph_of_spec({"name": "x", "workflow": {"steps": [{"name": "a", "dependsOn": ["gone"]}]}})
    assert graph.edges == () and graph.steps[0].type == ""


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_the_seed_matches_its_golden_graph(fmt: str) -> None:
    for app in ("apps/lixiang.py", "tests/seed/application.yaml"):
        loaded = load_app(ROOT / app)
        graph = graph_of_plan(loaded.app.name, loaded.plan)
        text = to_mermaid(graph) if fmt == "mermaid" else to_dot(graph)
        golden = GOLDEN / f"lixiang-graph.{'mmd' if fmt == 'mermaid' else 'dot'}"
        if os.environ.get("PYVELA_UPDATE_GOLDEN"):
            golden.write_text(text)
        # The KubeVela YAML of the seed is the same workflow: the same graph.
        assert text == golden.read_text(), f"{app}: regenerate with PYVELA_UPDATE_GOLDEN=1 if intended"
        assert ("cluster_ip → backend_ip" in text) and text.count("apply-") >= 6
