"""Every parameter of the standard object, config and flow steps refuses a value of the wrong type,
at the call site; unknown parameters are refused; the fewest parameters each needs are accepted."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from pyvela import StepDefinition
from pyvela import stdlib as s
from pyvela.errors import ParameterError

#: The fewest parameters each step needs.
REQUIRED: dict[str, dict[str, Any]] = {
    "apply-object": {"value": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}},
    "read-object": {"name": "c"},
    "export2config": {"config_name": "c", "data": {}},
    "export2secret": {"secret_name": "s"},
    "export-data": {"data": {}},
    "export-service": {"ip": "10.0.0.1", "port": 80, "target_port": 8080},
    "clean-jobs": {},
    "collect-service-endpoints": {},
    "create-config": {"name": "c", "config": {}},
    "read-config": {"name": "c"},
    "list-config": {"template": "t"},
    "delete-config": {"name": "c"},
    "suspend": {},
    "depends-on-app": {"name": "other"},
    "print-message-in-status": {"message": "m"},
    "restart-workflow": {"after": "1m"},
}
STEPS: list[Any] = [
    v
    for v in (getattr(s, n) for n in s.__all__)
    if isinstance(v, StepDefinition) and v.name in REQUIRED  # the HTTP steps are tested on their own
]
CASES = [(d, f.name) for d in STEPS for f in attrs.fields(d.params)]


class Wrong:
    """A value of no parameter's type."""

    def __repr__(self) -> str:
        return "Wrong()"


def test_every_step_is_covered() -> None:
    assert sorted(d.name for d in STEPS) == sorted(REQUIRED)


@pytest.mark.parametrize("definition", STEPS, ids=lambda d: d.name)
def test_the_fewest_parameters_are_accepted(definition: Any) -> None:
    assert definition("s", **REQUIRED[definition.name]).params is not None


@pytest.mark.parametrize(("definition", "param"), CASES, ids=[f"{d.name}.{p}" for d, p in CASES])
def test_a_wrong_type_is_a_parameter_error_at_the_call_site(definition: Any, param: str) -> None:
    given = {**REQUIRED[definition.name], param: Wrong()}
    if definition.name == "restart-workflow" and param != "after":
        given.pop("after")  # exactly one of at/after/every
    with pytest.raises(ParameterError) as err:
        definition("s", **given)
    assert err.value.context.get("parameter") == param or param in str(err.value)
    assert "test_steps_params.py" in str(err.value.where)


@pytest.mark.parametrize("definition", STEPS, ids=lambda d: d.name)
def test_an_unknown_parameter_is_refused(definition: Any) -> None:
    with pytest.raises(ParameterError, match="unknown parameter"):
        definition("s", **REQUIRED[definition.name], no_such_parameter=1)


@pytest.mark.parametrize("definition", STEPS, ids=lambda d: d.name)
def test_every_parameter_is_documented(definition: Any) -> None:
    doc = definition.params.__doc__ or ""
    for field in attrs.fields(definition.params):
        assert f"{field.name}:" in doc, f"{definition.name}: {field.name} has no docstring line"
