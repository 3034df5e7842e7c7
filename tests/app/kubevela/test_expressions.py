"""KubeVela's valueFrom/if expressions: the subset is parsed (lark), printed and evaluated
safely; anything else is refused quoting the expression."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._app.kubevela import expressions as ex
from pyvela._app.kubevela.dataflow import Condition, duration
from pyvela._core.steps import WorkflowView

DATA: dict[str, Any] = {
    "output": {"value": {"spec": {"clusterIP": "10.0.0.7", "ports": [{"port": 80}]}}},
    "outputs": {"name": "web", "replicas": 3, "ready": True},
    "context": {"name": "shop", "namespace": "prod"},
}


def _eval(text: str) -> Any:
    def lookup(path: ex.Path) -> Any:
        return ex.walk(DATA[path.root], path.segments, path.root, text)

    return ex.evaluate(ex.parse(text), lookup, text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("output.value.spec.clusterIP", "10.0.0.7"),
        ("output.value.spec.ports[0].port", 80),
        ('output.value["spec"].clusterIP', "10.0.0.7"),
        ("outputs.name", "web"),
        ('"http://" + output.value.spec.clusterIP + ":8080"', "http://10.0.0.7:8080"),
        ("outputs.replicas > 2 && outputs.ready", True),
        ("outputs.replicas < 2 || !outputs.ready", False),
        ('!(outputs.name == "web")', False),
        ('outputs.name != "api"', True),
        ("outputs.replicas + 1 == 4", True),
        ('context.name + "-" + context.namespace', "shop-prod"),
        ("true == !false", True),
        ("1.5 > 1", True),
        ('"a" < "b"', True),
        ("outputs.ready == 1", False),  # a bool is not a number, as in CUE
    ],
)
def test_the_subset_evaluates(text: str, value: Any) -> None:
    assert _eval(text) == value


@pytest.mark.parametrize(
    ("call", "value"),
    [
        ("strconv.FormatInt(outputs.replicas, 10)", "3"),
        ("strconv.FormatInt(-255, 16)", "-ff"),
        ("strconv.FormatInt(0, 2)", "0"),
        ('strconv.Itoa(outputs.replicas) + "x"', "3x"),
        ('strconv.Atoi("-12") + 1', -11),
    ],
)
def test_strconv_functions_evaluate_once_imported(call: str, value: Any) -> None:
    text = 'import "strconv"\n' + call
    assert _eval(text) == value
    assert ex.parse(ex.show(ex.parse(text))) == ex.parse(text)


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        ("strconv.FormatInt(1.5, 10)", "its first argument must be an int"),
        ("strconv.FormatInt(outputs.ready, 10)", "its first argument must be an int"),
        ("strconv.FormatInt(1, 40)", "the base must be 2 to 36"),
        ('strconv.Atoi("1e3")', "is not a decimal integer"),
    ],
)
def test_strconv_refuses_what_cue_refuses(call: str, problem: str) -> None:
    with pytest.raises(ex.ExpressionError, match=problem):
        _eval('import "strconv"\n' + call)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('"\\(context.name)-x"', "interpolation"),
        ("strings.ToUpper(outputs.name)", "the function strings.ToUpper is not supported"),
        ("strconv.Itoa(outputs.replicas)", 'needs import "strconv"'),
        ('import "strconv"\nstrconv.Itoa(1, 2)', "strconv.Itoa takes 1 argument"),
        ("outputs.replicas * 2", "unexpected '*'"),
        ("outputs.replicas >= 2", "unexpected '='"),
        ("[for x in outputs {x}]", "unexpected '['"),
        ("outputs.name & string", "unexpected '&'"),
        ("a == b == c", "unexpected '=='"),
        ("outputs.name ||", "ends too early"),
    ],
)
def test_the_rest_is_refused_quoting_the_expression(text: str, problem: str) -> None:
    with pytest.raises(ex.ExpressionError) as info:
        ex.parse(text)
    assert problem in info.value.problem and repr(text) in str(info.value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("outputs.name && true", "&& needs a bool"),
        ("outputs.name + 1", "+ joins two strings or adds two numbers"),
        ("outputs.ready > 1", "> compares two numbers or two strings"),
        ("outputs.nope", "outputs.nope does not exist (outputs has name, ready, replicas)"),
        (
            "output.value.spec.ports[3].port",
            "ports[3] does not exist (output.value.spec.ports is a list of 1)",
        ),
        ("outputs.name.first", "outputs.name.first does not exist (outputs.name is string)"),
    ],
)
def test_evaluation_errors_say_what_and_where(text: str, problem: str) -> None:
    with pytest.raises(ex.ExpressionError) as info:
        _eval(text)
    assert problem in info.value.problem


def test_a_camel_case_path_finds_a_python_outputs_field() -> None:
    assert ex.walk({"cluster_ip": "10.1.1.1"}, ("clusterIP",), "outputs", "outputs.clusterIP") == "10.1.1.1"


def test_an_if_reads_status_inputs_and_context() -> None:
    def cond(text: str, inputs: dict[str, tuple[str, str]] | None = None) -> Condition:
        return Condition(text, ex.parse(text), inputs or {}, "shop", "prod")

    view = WorkflowView(
        phases={"a": "succeeded", "b": "failed", "c": "failed"},
        outputs={"a": {"kv_ip": "10.0.0.1"}},
        reasons={"b": "Timeout", "c": "Error"},
    )
    assert cond('status.a.phase == "succeeded" && status.a.succeeded')(view)
    assert cond("status.b.timeout && !status.c.timeout && !status.c.succeeded")(view)
    assert cond('inputs.ip == "10.0.0.1"', {"ip": ("a", "kv_ip")})(view)
    assert cond('context.namespace == "prod"')(view)
    with pytest.raises(ex.ExpressionError, match="must be a bool"):
        cond("context.name")(view)
    with pytest.raises(ex.ExpressionError, match="has not produced it"):
        cond('inputs.ip == ""', {"ip": ("b", "kv_ip")})(view)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30.0), ("10m", 600.0), ("1h30m", 5400.0), ("500ms", 0.5)]
)
def test_durations(text: str, seconds: float) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "ten", "10x", "m10", "1h 30m"])
def test_not_durations(text: str) -> None:
    assert duration(text) is None


# --------------------------------------------------------------------------- parse ∘ print

_names = st.from_regex(r"[A-Za-z_$][A-Za-z0-9_$]{0,6}", fullmatch=True).filter(
    lambda s: s not in ("true", "false")
)
_segments = st.one_of(_names, st.text(min_size=0, max_size=6), st.integers(min_value=0, max_value=99))
_paths = st.builds(
    ex.Path,
    st.sampled_from(["output", "outputs", "inputs", "status", "context"]),
    st.lists(_segments, max_size=4).map(tuple),
)
_literals = st.builds(
    ex.Lit,
    st.one_of(
        st.text(max_size=8),
        st.integers(min_value=-(10**12), max_value=10**12),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
    ),
)
_exprs = st.recursive(
    st.one_of(_literals, _paths),
    lambda inner: st.one_of(
        st.builds(ex.Not, inner),
        st.builds(ex.Bin, st.sampled_from(["||", "&&", "==", "!=", "<", ">", "+"]), inner, inner),
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(_exprs)
def test_parse_of_print_is_the_identity(expr: ex.Expr) -> None:
    assert ex.parse(ex.show(expr)) == expr


@settings(max_examples=200, deadline=None)
@given(_exprs)
def test_printing_is_canonical(expr: ex.Expr) -> None:
    text = ex.show(expr)
    assert ex.show(ex.parse(text)) == text
