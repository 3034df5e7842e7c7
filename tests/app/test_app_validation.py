"""Loading apps: every bad-input case gives one clear error with the app file and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela import load_app
from pyvela.errors import (
    AppLoadError,
    CycleError,
    DanglingReferenceError,
    DuplicateNameError,
    ParameterError,
    UnknownDefinitionError,
)

WriteApp = Callable[..., Path]
HEADER = """
from platform_defs import apply_base, apply_helm, apply_proxy, base_service, helm, ingress, proxy_service
from pyvela import Application, StepGroup, Workflow
"""


def test_the_seed_app_loads_with_its_plan() -> None:
    loaded = load_app("apps/lixiang.py")
    assert loaded.plan.order == ("apply-base-service", "apply-redis", "apply-proxy-service")
    proxy = loaded.plan.steps["apply-proxy-service"]
    assert proxy.dependencies == {"apply-base-service", "apply-redis"}
    assert len(loaded.revision) == 16


def test_missing_file_and_missing_app(write_app: WriteApp, tmp_path: Path) -> None:
    with pytest.raises(AppLoadError, match="does not exist"):
        load_app(tmp_path / "nope.py")
    path = write_app("x = 1\n")
    with pytest.raises(AppLoadError, match="defines no `app` Application") as info:
        load_app(path)
    assert info.value.got == "nothing"


def test_import_error_points_at_the_failing_line(write_app: WriteApp) -> None:
    path = write_app(HEADER + "\n\nraise RuntimeError('boom')\n")
    with pytest.raises(AppLoadError, match="RuntimeError: boom") as info:
        load_app(path)
    assert info.value.where is not None
    assert info.value.where.file == str(path) and info.value.where.line == 5


def test_parameter_error_names_the_app_file_and_line(write_app: WriteApp) -> None:
    path = write_app(
        HEADER + 'b = base_service("b", image="x", cluster=7)\napp = Application("a", components=[b])\n'
    )
    with pytest.raises(ParameterError) as info:
        load_app(path)
    assert info.value.where is not None
    assert (info.value.where.file, info.value.where.line) == (str(path), 3)
    assert info.value.context["component"] == "b" and info.value.context["parameter"] == "cluster"


def test_unknown_definition_lists_the_known_ones(write_app: WriteApp) -> None:
    path = write_app(
        HEADER
        + """
import attrs
from pyvela import ComponentContext, WorkloadType, component

@attrs.frozen(kw_only=True)
class P:
    image: str

@component(name="adhoc", params=P, workload=WorkloadType(api_version="v1", kind="Pod"))
def adhoc(p: P, ctx: ComponentContext) -> dict:
    return {}

app = Application("a", components=[adhoc("x", image="y")])
"""
    )
    with pytest.raises(UnknownDefinitionError) as info:
        load_app(path)
    assert "base-service, helm, proxy-service" in (info.value.expected or "")
    assert info.value.where is not None and info.value.where.line == 15


def test_duplicate_components_and_steps_name_both_locations(write_app: WriteApp) -> None:
    path = write_app(
        HEADER
        + """
a = base_service("dup", image="x", cluster="c")
b = base_service("dup", image="y", cluster="c")
app = Application("a", components=[a, b])
"""
    )
    with pytest.raises(DuplicateNameError) as info:
        load_app(path)
    assert info.value.where is not None and info.value.where.line == 5
    assert f"{path}:4" in (info.value.got or "")
    path2 = write_app(
        HEADER
        + """
a = base_service("base-service", image="x", cluster="c").with_traits(ingress(domain="d", http={"/": 1}))
s1 = apply_base("s", component="base-service")
s2 = apply_base("s", component="base-service")
app = Application("a", components=[a], workflow=[s1, s2])
""",
        name="app2.py",
    )
    with pytest.raises(DuplicateNameError, match="two steps are named 's'"):
        load_app(path2)


def test_dangling_references(write_app: WriteApp) -> None:
    path = write_app(
        HEADER
        + """
a = base_service("base-service", image="x", cluster="c").after("ghost")
app = Application("a", components=[a])
"""
    )
    with pytest.raises(DanglingReferenceError, match="unknown component 'ghost'"):
        load_app(path)
    path = write_app(
        HEADER
        + """
a = base_service("base-service", image="x", cluster="c")
s = apply_base("s", component="no-such-component")
app = Application("a", components=[a], workflow=[s])
""",
        name="b.py",
    )
    with pytest.raises(DanglingReferenceError, match="unknown component 'no-such-component'") as info:
        load_app(path)
    assert info.value.context["parameter"] == "component"
    path = write_app(
        HEADER
        + """
a = base_service("base-service", image="x", cluster="c")
p = proxy_service("proxy-service", image="x", cluster="c")
outside = apply_base("not-in-workflow", component="base-service")
s = apply_proxy("s", component="proxy-service", backend_ip=outside.outputs.cluster_ip)
app = Application("a", components=[a, p], workflow=[s])
""",
        name="c.py",
    )
    with pytest.raises(DanglingReferenceError, match="unknown step 'not-in-workflow'"):
        load_app(path)
    path = write_app(
        HEADER
        + """
a = base_service("base-service", image="x", cluster="c")
s = apply_base("s", component="base-service").after("ghost-step")
app = Application("a", components=[a], workflow=[s])
""",
        name="d.py",
    )
    with pytest.raises(DanglingReferenceError, match="unknown step 'ghost-step'"):
        load_app(path)


def test_cycles_print_the_path(write_app: WriteApp) -> None:
    path = write_app(
        HEADER
        + """
a = base_service("a", image="x", cluster="c").after("b")
b = base_service("b", image="x", cluster="c").after("a")
app = Application("a", components=[a, b])
"""
    )
    with pytest.raises(CycleError) as info:
        load_app(path)
    assert info.value.context["cycle"] in ("a -> b -> a", "b -> a -> b")
    path = write_app(
        HEADER
        + """
a = base_service("base-service", image="x", cluster="c")
p = proxy_service("proxy-service", image="x", cluster="c")
s1 = apply_base("s1", component="base-service").after("s2")
s2 = apply_proxy("s2", component="proxy-service", backend_ip=s1.outputs.cluster_ip)
app = Application("a", components=[a, p], workflow=Workflow(steps=[s1, s2], mode="DAG"))
""",
        name="steps.py",
    )
    with pytest.raises(CycleError, match=r"s1 -> s2 -> s1|s2 -> s1 -> s2"):
        load_app(path)


def test_default_workflow_is_a_dag_of_apply_component_steps(write_app: WriteApp) -> None:
    path = write_app(
        HEADER
        + """
a = base_service("a", image="x", cluster="c")
b = proxy_service("b", image="x", cluster="c").after(a)
r = helm("r", chart="c", version="1", repo_url="https://x")
app = Application("demo", components=[a, b, r])
"""
    )
    loaded = load_app(path)
    assert loaded.plan.mode == "DAG"
    assert {n: sorted(s.dependencies) for n, s in loaded.plan.steps.items()} == {"a": [], "b": ["a"], "r": []}
    assert all(s.use.definition.name == "apply-component" for s in loaded.plan.steps.values())


def test_step_groups_and_step_by_step_order(write_app: WriteApp) -> None:
    path = write_app(
        HEADER
        + """
a = base_service("base-service", image="x", cluster="c")
r = helm("redis", chart="c", version="1", repo_url="https://x")
r2 = helm("redis2", chart="c", version="1", repo_url="https://x")
p = proxy_service("proxy-service", image="x", cluster="c")
s1 = apply_base("s1", component="base-service")
h1, h2 = apply_helm("h1", component="redis"), apply_helm("h2", component="redis2")
group = StepGroup(name="infra", steps=(h1, h2))
s3 = apply_proxy("s3", component="proxy-service", backend_ip=s1.outputs.cluster_ip)
app = Application("a", components=[a, r, r2, p], workflow=[s1, group, s3])
"""
    )
    plan = load_app(path).plan
    assert plan.steps["h1"].dependencies == {"s1"} and plan.steps["h2"].dependencies == {"s1"}
    assert plan.steps["s3"].dependencies == {"h1", "h2", "s1"}
    assert plan.groups == {"infra": ("h1", "h2")}


def test_revision_changes_with_the_app_but_not_between_loads(write_app: WriteApp) -> None:
    src = HEADER + 'app = Application("a", components=[base_service("b", image="{}", cluster="c")])\n'
    one = load_app(write_app(src.format("x"), name="one.py")).revision
    again = load_app(write_app(src.format("x"), name="again.py")).revision
    other = load_app(write_app(src.format("y"), name="other.py")).revision
    assert one == again != other
