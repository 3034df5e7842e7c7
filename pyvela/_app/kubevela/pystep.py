"""KubeVela's step data flow in a Python app: ``kubevela_step``, the step use ``pyvela convert``
writes for a step whose YAML computes outputs by ``valueFrom`` or whose ``inputs`` set
properties (of the component it applies, or inside its own parameters).

It builds the use through the YAML loader's own code (``flow``, ``stepwrap``, ``workflow``),
so the converted module runs the data flow the YAML ran: the same expressions, evaluated the
same way, the same properties set. The wrapped definition keeps the catalogue's as its base
(``Catalogue.require`` accepts it for that), and the flow's text is a parameter, so a changed
expression is a new revision as it is for the YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._app.kubevela.flow import ComponentInfo, Flow, collect_outputs, collect_property_inputs
from pyvela._app.kubevela.marked import Node
from pyvela._app.kubevela.stepwrap import WrappedRun, extended_params, wrap
from pyvela._app.kubevela.workflow import _step as step_use
from pyvela._core.definitions import ComponentUse
from pyvela._core.params import Ref, caller_location, params_to_data
from pyvela._core.steps import StepDefinition, StepUse
from pyvela.errors import AppError

#: The parameter that holds what the step's YAML computed and set (part of the revision).
FLOW_FIELD = "kv_dataflow"


def kubevela_step(
    name: str,
    definition: StepDefinition[Any, Any, Any],
    /,
    *,
    outputs: Mapping[str, str] | None = None,
    inputs: Mapping[str, Ref] | None = None,
    applies: ComponentUse[Any] | None = None,
    **params: Any,
) -> StepUse[Any, Any]:
    """Use step ``definition`` as step ``name`` with KubeVela's data flow.

    Args:
        outputs: Output name -> its ``valueFrom`` expression (KubeVela's subset: paths under
            ``output``/``outputs``/``context``, literals, operators, ``strconv`` functions).
            Later steps read it as ``<use>.outputs.kv_<name>``.
        inputs: ``parameterKey`` -> the output it takes (``<use>.outputs.<field>``): a property
            of the component the step applies (``image``, ``properties.env[0].value``) or a
            path inside one of the step's parameters (``data.serverStatus``). An input into a
            whole parameter of the step is that parameter (``backend_ip=base.outputs.cluster_ip``).
        applies: The component use whose properties ``inputs`` set.
        params: The step's parameters.
    """
    where = caller_location()
    flow = Flow()
    refs = dict(inputs or {})
    for key, ref in refs.items():
        if not isinstance(ref, Ref):
            raise AppError(
                f"input {key!r} of step {name!r} is no step output",
                where=where,
                step=name,
                expected="a reference such as other_step.outputs.field",
                got=type(ref).__name__,
            )
    # A reference into a whole parameter is an input of that parameter, as the YAML writes it.
    refs.update({k: v for k, v in params.items() if isinstance(v, Ref)})
    for ref in refs.values():
        flow.producers[_source(ref)] = (ref.step, ref.field, ref.type, where)
    own = {k: v for k, v in params.items() if not isinstance(v, Ref)}
    node: dict[str, Any] = {"name": name, "type": definition.name, "properties": _data(own)}
    if refs:
        node["inputs"] = [{"from": _source(r), "parameterKey": k} for k, r in refs.items()]
    if outputs:
        node["outputs"] = [{"name": n, "valueFrom": text} for n, text in outputs.items()]
    s = Node.of(node, where)
    components: dict[str, ComponentInfo] = {}
    if applies is not None:
        properties = Node.of(params_to_data(applies.params), applies.where)
        components[applies.name] = ComponentInfo(applies, Node.of({}, applies.where), properties)
    collect_outputs(s, name, definition, flow)
    collect_property_inputs(s, name, definition, flow, components)
    plan = flow.plan(definition.name, name)
    wrapped = wrap(definition, {name: plan})
    run = wrapped.run
    if isinstance(run, WrappedRun) and name in run.outputs:
        wrapped = attrs.evolve(wrapped, outputs_type=run.outputs[name])
    fields = [i.field for i in (*plan.properties, *plan.own)]
    wrapped = attrs.evolve(wrapped, params=extended_params(definition.params, [*fields, FLOW_FIELD]))
    written = dict(node["properties"], **{FLOW_FIELD: flow.spec().get(name, {})})
    s = s.with_entry("properties", Node.of(written, where))
    return attrs.evolve(step_use(s, wrapped, flow, {name}, "", "", components), where=where)


def _source(ref: Ref) -> str:
    return f"{ref.step}.outputs.{ref.field}"


def _data(value: Any) -> Any:
    """Parameter values as the YAML would hold them (nested parameter classes as mappings)."""
    if attrs.has(type(value)):
        return {f.name: _data(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, Mapping):
        return {k: _data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_data(v) for v in value]
    return value
