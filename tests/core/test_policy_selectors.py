"""KubeVela's rule selector and the policies' field paths, as pure functions."""

from __future__ import annotations

import pytest

from pyvela._core import fieldpaths
from pyvela._core.selectors import Facts, RuleSelector

WORKLOAD = Facts(
    kind="Deployment", name="web", component="web", component_type="webservice", oam_type="WORKLOAD"
)
SERVICE = Facts(
    kind="Service",
    name="web",
    component="web",
    component_type="webservice",
    oam_type="TRAIT",
    trait_type="expose",
)
STEP_OBJECT = Facts(kind="ConfigMap", name="settings")


def test_every_given_criterion_must_hold_and_an_empty_selector_selects_nothing() -> None:
    assert not RuleSelector().matches(WORKLOAD)
    assert RuleSelector(component_names=("web",)).matches(WORKLOAD)
    assert RuleSelector(component_names=("web",)).matches(SERVICE)
    assert RuleSelector(component_names=("web",), oam_types=("WORKLOAD",)).matches(WORKLOAD)
    assert not RuleSelector(component_names=("web",), oam_types=("WORKLOAD",)).matches(SERVICE)
    assert RuleSelector(trait_types=("expose",)).matches(SERVICE)
    assert not RuleSelector(trait_types=("expose",)).matches(WORKLOAD)  # a workload has no trait type
    assert RuleSelector(component_types=("webservice", "worker")).matches(WORKLOAD)
    assert RuleSelector(resource_types=("Service",), resource_names=("web",)).matches(SERVICE)
    assert not RuleSelector(resource_types=("Service",), resource_names=("api",)).matches(SERVICE)


def test_objects_of_steps_match_only_kind_and_name_criteria() -> None:
    assert RuleSelector(resource_types=("ConfigMap",)).matches(STEP_OBJECT)
    assert not RuleSelector(resource_types=("ConfigMap",), component_names=("web",)).matches(STEP_OBJECT)
    assert not RuleSelector(oam_types=("WORKLOAD", "TRAIT")).matches(STEP_OBJECT)


def test_field_paths_parse_fields_indexes_and_bracketed_keys() -> None:
    assert fieldpaths.parse("spec.replicas") == ("spec", "replicas")
    assert fieldpaths.parse("spec.template.spec.containers[0].resources") == (
        "spec", "template", "spec", "containers", 0, "resources",
    )  # fmt: skip
    assert fieldpaths.parse("metadata.annotations[example.com/owner]") == (
        "metadata", "annotations", "example.com/owner",
    )  # fmt: skip
    assert fieldpaths.parse("data['a.b']") == ("data", "a.b")


@pytest.mark.parametrize("bad", ["", "spec..x", "spec.", ".spec", "a[0", "a]b", "a[]", "a[0]b"])
def test_malformed_field_paths_say_where(bad: str) -> None:
    with pytest.raises(ValueError, match=r"field path|non-empty"):
        fieldpaths.parse(bad)


def test_get_and_put_follow_the_path_and_missing_removes() -> None:
    obj = {"spec": {"containers": [{"name": "a", "resources": {"cpu": "1"}}]}}
    path = fieldpaths.parse("spec.containers[0].resources")
    assert fieldpaths.get(obj, path) == {"cpu": "1"}
    assert fieldpaths.get(obj, fieldpaths.parse("spec.containers[3].resources")) is fieldpaths.MISSING
    fieldpaths.put(obj, path, {"cpu": "2"})
    assert obj["spec"]["containers"][0]["resources"] == {"cpu": "2"}
    fieldpaths.put(obj, fieldpaths.parse("metadata.labels[a/b]"), "x")
    assert obj["metadata"] == {"labels": {"a/b": "x"}}
    fieldpaths.put(obj, fieldpaths.parse("metadata.labels[a/b]"), fieldpaths.MISSING)
    assert obj["metadata"] == {"labels": {}}
    fieldpaths.put(obj, fieldpaths.parse("status.absent.deep"), fieldpaths.MISSING)  # nothing to remove
    assert "status" not in obj
