"""Definitions and call sites: pure decorators, runtime parameter checks with file:line."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import pytest

import pyvela
from platform_defs import apply_base, apply_proxy, base_service, ingress
from pyvela.errors import DefinitionError, ParameterError

HERE = __file__


def test_decorators_are_pure_and_return_immutable_definitions() -> None:
    assert isinstance(base_service, pyvela.ComponentDefinition)
    assert base_service.name == "base-service"
    assert "Deployment" in base_service.description
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        base_service.name = "x"  # type: ignore[misc]

    # Defining a component with the same name elsewhere registers nothing globally.
    @attrs.frozen(kw_only=True)
    class P:
        image: str

    @pyvela.component(
        name="base-service", params=P, workload=pyvela.WorkloadType(api_version="v1", kind="Pod")
    )
    def other(p: P, ctx: pyvela.ComponentContext) -> pyvela.Obj:
        return {}

    assert other is not base_service
    assert pyvela.Catalogue.from_modules(["platform_defs"]).get("component", "base-service") is base_service


def test_wrong_type_names_file_line_component_parameter_expected_and_got() -> None:
    with pytest.raises(ParameterError) as info:
        base_service("base-service", image=3, cluster="default")  # type: ignore[arg-type]
    err = info.value
    assert err.where is not None and err.where.file == HERE
    assert err.context["component"] == "base-service"
    assert err.context["parameter"] == "image"
    assert err.expected == "str"
    assert err.got == "3 (int)"
    text = str(err)
    assert (
        f"{HERE}:{err.where.line}" in text
        and "component 'base-service'" in text
        and "parameter 'image'" in text
    )


def test_every_item_of_a_collection_is_checked() -> None:
    with pytest.raises(ParameterError) as info:
        ingress(domain="x.example.com", http={"/": 80, "/api": "443"})  # type: ignore[dict-item]
    assert info.value.context["parameter"] == "http"
    assert "Mapping[str, int]" in (info.value.expected or "")


def test_misspelt_parameter_suggests_the_right_one() -> None:
    with pytest.raises(ParameterError) as info:
        base_service("b", imag="nginx", cluster="c")  # type: ignore[call-arg]
    assert "unknown parameter 'imag'" in str(info.value)
    assert info.value.fix == "did you mean 'image'?"


def test_missing_and_positional_parameters() -> None:
    with pytest.raises(ParameterError, match="missing required parameter 'cluster'"):
        base_service("b", image="nginx")  # type: ignore[call-arg]
    with pytest.raises(ParameterError, match="keyword-only"):
        ingress("x.example.com", {"/": 80})  # type: ignore[call-arg]


def test_step_output_reference_is_deferred_and_typed() -> None:
    base = apply_base("apply-base-service", component="base-service")
    ref = base.outputs.cluster_ip
    assert isinstance(ref, pyvela.Ref)
    assert (ref.step, ref.field, ref.type) == ("apply-base-service", "cluster_ip", str)
    proxy = apply_proxy("p", component="proxy-service", backend_ip=ref)
    assert proxy.params.backend_ip == ref
    with pytest.raises(DefinitionError, match="has no output 'cluster'"):
        _ = base.outputs.cluster  # type: ignore[attr-defined]


def test_definition_errors_at_decoration_time() -> None:
    @attrs.frozen(kw_only=True)
    class Good:
        x: int

    with pytest.raises(DefinitionError, match="must be an async function"):

        @pyvela.step(name="sync-step", params=Good)
        def sync_step(p: Good, ctx: pyvela.StepContext) -> None:  # type: ignore[arg-type]
            return None

    @attrs.define(kw_only=True)
    class Mutable:
        x: int

    with pytest.raises(DefinitionError, match="frozen"):
        pyvela.trait(name="t", params=Mutable)(lambda p, ctx: pyvela.TraitResult())

    @attrs.frozen
    class Positional:
        x: int

    with pytest.raises(DefinitionError, match="keyword-only"):
        pyvela.trait(name="t", params=Positional)(lambda p, ctx: pyvela.TraitResult())

    with pytest.raises(DefinitionError, match="attrs class"):
        pyvela.trait(name="t", params=dict)(lambda p, ctx: pyvela.TraitResult())  # type: ignore[arg-type]

    with pytest.raises(DefinitionError, match="DNS-style"):
        pyvela.trait(name="Bad_Name", params=Good)(lambda p, ctx: pyvela.TraitResult())


def test_params_with_defaults_and_mappings() -> None:
    @attrs.frozen(kw_only=True)
    class P:
        ports: tuple[int, ...] = ()
        labels: Mapping[str, str] | None = None

    t = pyvela.trait(name="labels", params=P)(lambda p, ctx: pyvela.TraitResult())
    assert t(ports=(80, 443)).params.ports == (80, 443)
    with pytest.raises(ParameterError):
        t(ports=(80, "443"))  # type: ignore[arg-type]


def test_definitions_carry_their_parameter_schema_and_description() -> None:
    from platform_defs import helm

    schema = helm.schema()
    assert schema["chart"] == {
        "type": "str",
        "required": True,
        "description": "The chart's name in the repository (or an ``oci://`` reference or a local path).",
    }
    assert schema["repo_type"]["default"] == "helm" and schema["repo_type"]["required"] is False
    assert apply_proxy.schema()["backend"]["type"] == "ComponentName (str)"
    assert helm.description.startswith("A Helm release")


def test_defs_command_lists_and_shows() -> None:
    import contextlib
    import io
    import json

    from pyvela._cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["defs", "-o", "json"]) == 0
    names = {(d["kind"], d["name"]) for d in json.loads(out.getvalue())}
    assert {
        ("component", "base-service"),
        ("trait", "ingress"),
        ("step", "apply-proxy"),
        ("step", "apply-component"),
        ("policy", "garbage-collect"),
    } <= names
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["defs", "ingress"]) == 0
    assert "http: Mapping[str, int] (required)" in out.getvalue()
