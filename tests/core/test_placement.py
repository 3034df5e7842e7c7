"""The multi-cluster policies as pure functions: topology placements, override merges,
replication copies (KubeVela v1.10.1's pkg/policy semantics)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyvela._backends.clusters import ClusterInfo, ClusterSet
from pyvela._core.definitions import (
    ComponentContext,
    TraitContext,
    TraitResult,
    WorkloadType,
    component,
    trait,
)
from pyvela._core.placement import (
    Placement,
    merge_params,
    override_components,
    placements,
    plan_deploy,
    replicate,
)
from pyvela._core.policies_cluster import (
    ComponentPatch,
    TraitPatch,
    check_cluster_policies,
    override,
    replication,
    topology,
)
from pyvela.errors import (
    ClusterError,
    DanglingReferenceError,
    Location,
    ParameterError,
    UnknownDefinitionError,
)

DEPLOYMENT = WorkloadType(api_version="apps/v1", kind="Deployment")
HERE = Location("test", 1)


@attrs.frozen(kw_only=True)
class Resources:
    cpu: str = "100m"
    memory: str | None = None


@attrs.frozen(kw_only=True)
class WebParams:
    image: str
    env: Mapping[str, str] | None = None
    ports: tuple[int, ...] = ()
    resources: Resources = Resources()


@component(name="web", params=WebParams, workload=DEPLOYMENT)
def web(p: WebParams, ctx: ComponentContext) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": ctx.name}}


@attrs.frozen(kw_only=True)
class WorkerParams:
    image: str
    queue: str = "jobs"


@component(name="worker", params=WorkerParams, workload=DEPLOYMENT)
def worker(p: WorkerParams, ctx: ComponentContext) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": ctx.name}}


@attrs.frozen(kw_only=True)
class ScaleParams:
    replicas: int = 1


@trait(name="scale", params=ScaleParams)
def scale(p: ScaleParams, ctx: TraitContext) -> TraitResult:
    return TraitResult(patch={"spec": {"replicas": p.replicas}})


@attrs.frozen(kw_only=True)
class NoteParams:
    text: str = ""


@trait(name="note", params=NoteParams)
def note(p: NoteParams, ctx: TraitContext) -> TraitResult:
    return TraitResult()


DEFS = {
    ("component", "web"): web,
    ("component", "worker"): worker,
    ("trait", "scale"): scale,
    ("trait", "note"): note,
}


def lookup(kind: str, name: str) -> Any:
    return DEFS.get((kind, name))


CLUSTERS = ClusterSet(
    [
        ClusterInfo(name="local", kind="sandbox", sandbox="/nonexistent/local"),
        ClusterInfo(
            name="beijing",
            kind="sandbox",
            sandbox="/nonexistent/bj",
            labels={"region": "north", "env": "prod"},
        ),
        ClusterInfo(
            name="shanghai",
            kind="sandbox",
            sandbox="/nonexistent/sh",
            labels={"region": "east", "env": "prod"},
        ),
    ]
)


def app_components() -> list[Any]:
    return [
        web("api", image="api:1", env={"A": "1"}).with_traits(scale(replicas=2), note(text="x")),
        worker("jobs", image="jobs:1"),
    ]


# --------------------------------------------------------------------------- topology


def test_topology_by_names_by_labels_local_and_namespace() -> None:
    by_name = topology("t", clusters=("beijing", "local"), namespace="prod")
    assert placements([by_name], CLUSTERS) == [Placement("beijing", "prod"), Placement("local", "prod")]
    by_label = topology("t", cluster_label_selector={"env": "prod"})
    assert placements([by_label], CLUSTERS) == [Placement("beijing"), Placement("shanghai")]
    assert placements([topology("t", cluster_selector={"region": "east"})], CLUSTERS) == [
        Placement("shanghai")
    ]
    assert placements([topology("t")], CLUSTERS) == [Placement("local")]  # neither: the control cluster
    assert placements([], CLUSTERS) == [Placement("local")]
    # Two topologies naming the same place deploy there once.
    assert placements([by_label, topology("u", clusters=("shanghai",))], CLUSTERS) == [
        Placement("beijing"),
        Placement("shanghai"),
    ]


def test_topology_refuses_an_unknown_cluster_and_an_empty_selection_unless_allowed() -> None:
    with pytest.raises(ClusterError, match="topology 't': unknown cluster 'mars'") as err:
        placements([topology("t", clusters=("mars",))], CLUSTERS)
    assert "beijing" in str(err.value.expected) and err.value.where is not None
    with pytest.raises(ClusterError, match="no cluster has the labels"):
        placements([topology("t", cluster_label_selector={"env": "dev"})], CLUSTERS)
    empty = topology("t", cluster_label_selector={"env": "dev"}, allow_empty=True)
    assert placements([empty], CLUSTERS) == []  # as KubeVela: a topology that selects nothing deploys nowhere
    with pytest.raises(ParameterError, match="namespace"):
        topology("t", namespace="Not_A_Name")


# --------------------------------------------------------------------------- override


def test_override_merges_properties_and_adds_changes_and_disables_traits() -> None:
    policy = override(
        "o",
        components=(
            ComponentPatch(
                name="api",
                properties={"image": "api:2", "env": {"B": "2"}, "resources": {"memory": "1Gi"}},
                traits=(
                    TraitPatch(type="scale", properties={"replicas": 5}),
                    TraitPatch(type="note", disable=True),
                ),
            ),
        ),
    )
    api, jobs = override_components(app_components(), [policy], lookup)
    assert api.params == WebParams(image="api:2", env={"A": "1", "B": "2"}, resources=Resources(memory="1Gi"))
    assert [(t.definition.name, t.params) for t in api.traits] == [("scale", ScaleParams(replicas=5))]
    assert jobs.params == WorkerParams(image="jobs:1")  # not selected: unchanged


def test_override_by_type_by_pattern_adds_traits_and_components_and_selects() -> None:
    by_type = override("o", components=(ComponentPatch(type="worker", properties={"queue": "fast"}),))
    api, jobs = override_components(app_components(), [by_type], lookup)
    assert jobs.params.queue == "fast" and api.params.image == "api:1"
    # No name, no type: every component; a trait it lacks is added with its properties.
    everyone = override(
        "o", components=(ComponentPatch(traits=(TraitPatch(type="scale", properties={"replicas": 3}),)),)
    )
    api, jobs = override_components(app_components(), [everyone], lookup)
    assert api.traits[0].params == ScaleParams(replicas=3) and jobs.traits[0].params == ScaleParams(
        replicas=3
    )
    pattern = override("o", components=(ComponentPatch(name="j*", properties={"image": "j:9"}),))
    assert override_components(app_components(), [pattern], lookup)[1].params.image == "j:9"
    # A plain name that matches nothing adds a component of the type; a name matching one of
    # another type replaces it.
    added = override(
        "o", components=(ComponentPatch(name="cron", type="worker", properties={"image": "c:1"}),)
    )
    names = [c.name for c in override_components(app_components(), [added], lookup)]
    assert names == ["api", "jobs", "cron"]
    replaced = override(
        "o", components=(ComponentPatch(name="api", type="worker", properties={"image": "w:1"}),)
    )
    api = override_components(app_components(), [replaced], lookup)[0]
    assert api.definition is worker and api.params == WorkerParams(image="w:1") and api.traits == ()
    only = override("o", components=(), selector=("jobs",))
    assert [c.name for c in override_components(app_components(), [only], lookup)] == ["jobs"]


def test_overrides_apply_in_order_and_camel_case_names_are_accepted() -> None:
    first = override("a", components=(ComponentPatch(name="api", properties={"image": "api:2"}),))
    second = override("b", components=(ComponentPatch(name="api", properties={"image": "api:3"}),))
    assert override_components(app_components(), [first, second], lookup)[0].params.image == "api:3"
    assert override_components(app_components(), [second, first], lookup)[0].params.image == "api:2"


def test_override_errors_name_the_parameter_and_the_policy() -> None:
    bad = override("o", components=(ComponentPatch(name="api", properties={"imagee": "x"}),))
    with pytest.raises(ParameterError, match="unknown parameter 'imagee'") as err:
        override_components(app_components(), [bad], lookup)
    assert err.value.fix == "did you mean 'image'?"
    wrong = override("o", components=(ComponentPatch(name="api", properties={"ports": "80"}),))
    with pytest.raises(ParameterError, match="'ports' has the wrong type"):
        override_components(app_components(), [wrong], lookup)
    ghost = override("o", components=(ComponentPatch(name="api", traits=(TraitPatch(type="ghost"),)),))
    with pytest.raises(UnknownDefinitionError, match="ghost"):
        override_components(app_components(), [ghost], lookup)


def test_load_time_checks_of_override_and_replication() -> None:
    comps = {"api", "jobs"}
    names = {"component": ["web", "worker"], "trait": ["scale", "note"]}.__getitem__
    ok = [
        override("o", components=(ComponentPatch(name="api*"), ComponentPatch(name="new", type="web"))),
        replication("r", keys=("a", "b"), selector=("api",)),
    ]
    check_cluster_policies(ok, components=comps, names=names)
    for bad, error in [
        (override("o", components=(ComponentPatch(name="apx"),)), DanglingReferenceError),
        (override("o", components=(ComponentPatch(type="cron"),)), ParameterError),
        (override("o", components=(ComponentPatch(traits=(TraitPatch(type="hpa"),)),)), ParameterError),
        (replication("r", keys=("a",)), ParameterError),
        (replication("r", keys=("a",), selector=("nope",)), DanglingReferenceError),
    ]:
        with pytest.raises(error):
            check_cluster_policies([bad], components=comps, names=names)
    with pytest.raises(ParameterError, match="each key once"):
        replication("r", keys=("a", "a"), selector=("api",))


# The merge's invariants: an empty patch changes nothing; every key a patch sets reads back as
# set (mappings: each of its keys); every key it does not set keeps its value.
_text = st.text(alphabet="abcdef", min_size=1, max_size=4)
_env = st.dictionaries(_text, _text, max_size=4)


@given(
    image=_text,
    env=st.one_of(st.none(), _env),
    patch=st.fixed_dictionaries(
        {},
        optional={
            "image": _text,
            "env": _env,
            "ports": st.tuples(st.integers(1, 9)),
            "resources": st.fixed_dictionaries({}, optional={"cpu": _text, "memory": _text}),
        },
    ),
)
def test_merge_sets_what_the_patch_sets_and_keeps_the_rest(
    image: str, env: dict[str, str] | None, patch: dict[str, Any]
) -> None:
    base = WebParams(image=image, env=env, resources=Resources(memory="1Gi"))
    assert merge_params(base, {}, where=HERE) == base
    merged = merge_params(base, patch, where=HERE)
    for key in ("image", "ports"):
        assert getattr(merged, key) == patch.get(key, getattr(base, key))
    if "env" in patch:
        assert merged.env == {**(env or {}), **patch["env"]}
    else:
        assert merged.env == env
    resources = patch.get("resources", {})
    assert merged.resources == Resources(
        cpu=resources.get("cpu", "100m"), memory=resources.get("memory", "1Gi")
    )
    # Merging is applying: doing it twice changes nothing more.
    assert merge_params(merged, patch, where=HERE) == merged


# --------------------------------------------------------------------------- replication


def test_replication_copies_selected_components_per_key_at_the_end() -> None:
    rep = replication("r", keys=("north", "east"), selector=("api",))
    out = replicate(app_components(), [rep])
    assert [(c.name, c.replica_key) for c in out] == [("jobs", ""), ("api", "north"), ("api", "east")]
    assert out[1].traits == app_components()[0].traits or len(out[1].traits) == 2
    with pytest.raises(ParameterError, match="selects no component"):
        replicate([app_components()[1]], [rep])


def test_a_deploy_plan_places_overrides_and_replicates_in_kubevela_order() -> None:
    policies = [
        topology("t", clusters=("beijing", "shanghai")),
        override("o", components=(ComponentPatch(name="api", properties={"image": "api:2"}),)),
        replication("r", keys=("x", "y"), selector=("api",)),
    ]
    plan = plan_deploy(app_components(), policies, CLUSTERS, lookup)
    assert plan.placements == (Placement("beijing"), Placement("shanghai"))
    assert [(c.name, c.replica_key, c.params.image) for c in plan.components] == [
        ("jobs", "", "jobs:1"),
        ("api", "x", "api:2"),
        ("api", "y", "api:2"),
    ]
