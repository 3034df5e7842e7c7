"""KubeVela's configs as workflow steps: ``create-config``, ``read-config``, ``list-config`` and
``delete-config``.

A config is a Secret laid out as KubeVela v1.10.1's config factory (pkg/config) writes it, so
``vela config list`` and these steps read each other's: the labels ``config.oam.dev/catalog:
velacore-config`` and ``config.oam.dev/type: <template>`` (empty without a template), the
annotations ``config.oam.dev/alias`` and ``config.oam.dev/description``, and the properties as
JSON under the data key ``input-properties``. Templates are ConfigMaps
``config-template-<name>`` (in ``vela-system`` unless written ``<namespace>/<name>``) holding
CUE: pyvela does not evaluate CUE, so a template that renders an output or validates is refused;
one that only declares parameters is honoured (type, scope and sensitivity labels).

Follows vela-templates/definitions/internal/workflowstep/{create,read,list,delete}-config.cue.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, cast

import attrs

from pyvela import ObjectRef, StepContext, step

from ._steps import check_name, is_ref, plain
from ._types import Params, as_list, as_map

CATALOG, VELA_CORE = "config.oam.dev/catalog", "velacore-config"
TYPE, SCOPE = "config.oam.dev/type", "config.oam.dev/scope"
ALIAS, DESCRIPTION = "config.oam.dev/alias", "config.oam.dev/description"
SENSITIVE, TEMPLATE_NAMESPACE = "config.oam.dev/sensitive", "config.oam.dev/template-namespace"
PROPERTIES, OBJECTS = "input-properties", "objects-reference"
TEMPLATE_PREFIX, TEMPLATE_HOME = "config-template-", "vela-system"
#: Parts of a config template that pyvela would have to evaluate as CUE to honour.
_EVALUATED = re.compile(r"(?m)^\s*(output|outputs|validation)\s*:")


def _secret(name: str, namespace: str) -> ObjectRef:
    return ObjectRef("v1", "Secret", namespace, name)


def split_template(template: str) -> tuple[str, str]:
    """``(namespace, name)`` of a template written ``name`` or ``namespace/name``."""
    namespace, _, name = template.rpartition("/")
    return namespace or TEMPLATE_HOME, name


def encode_properties(config: Mapping[str, Any]) -> str:
    """The ``input-properties`` data value: compact JSON with sorted keys, as Go writes a map."""
    text = json.dumps(plain(config), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode()).decode()


def decode_properties(secret: Mapping[str, Any]) -> dict[str, Any] | None:
    """The config's properties; None when the Secret holds none that parse as a JSON object."""
    raw = as_map(secret.get("data")).get(PROPERTIES)
    if not isinstance(raw, str):
        return None
    try:
        value: Any = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        return None
    return cast(dict[str, Any], value) if isinstance(value, dict) else None


def _labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_map(as_map(obj.get("metadata")).get("labels"))


def _annotations(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_map(as_map(obj.get("metadata")).get("annotations"))


class _NamedConfig(Params):
    def validate(self) -> None:
        check_name("name", getattr(self, "name"))  # noqa: B009 - the subclasses' field


@attrs.frozen(kw_only=True)
class CreateConfigParams(_NamedConfig):
    """Parameters of ``create-config``.

    Attributes:
        name: The config's name (its Secret's name).
        namespace: Where the config lives; the app's namespace when unset.
        template: The config template it is an instance of (``name`` in ``vela-system``, or
            ``namespace/name``); none by default. Only templates that declare parameters
            alone are supported: pyvela does not evaluate CUE outputs or validation.
        config: The config's properties.
    """

    name: str
    config: Mapping[str, Any]
    namespace: str | None = None
    template: str | None = None

    def validate(self) -> None:
        super().validate()
        if self.template is not None and not is_ref(self.template) and not split_template(self.template)[1]:
            raise ValueError(
                f"template {self.template!r} names no template: write `name` or `namespace/name`"
            )


@step(name="create-config", params=CreateConfigParams)
async def create_config(p: CreateConfigParams, ctx: StepContext) -> None:
    """Create or update a KubeVela config (a labelled Secret that ``vela config`` reads too)."""
    namespace = p.namespace or ctx.namespace
    labels = {CATALOG: VELA_CORE, TYPE: ""}
    notes: dict[str, str] = {}
    secret: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret"}
    if p.template is not None:
        home, name = split_template(p.template)
        template = await ctx.read(ObjectRef("v1", "ConfigMap", home, TEMPLATE_PREFIX + name))
        if template is None:
            await ctx.fail(
                f"config template {home}/{name} does not exist "
                f"(no ConfigMap {TEMPLATE_PREFIX}{name} in {home})"
            )
            raise AssertionError("unreachable: a failed step does not resume")
        if _EVALUATED.search(str(as_map(template.get("data")).get("template") or "")):
            await ctx.fail(
                f"config template {home}/{name} is not supported, because it renders an output or "
                "validates its properties in CUE, which pyvela does not evaluate; create the config "
                "with `vela config create`, or without a template"
            )
        labels = {CATALOG: VELA_CORE, TYPE: name, SCOPE: str(_labels(template).get(SCOPE) or "")}
        notes = {
            SENSITIVE: "true" if _annotations(template).get(SENSITIVE) == "true" else "false",
            TEMPLATE_NAMESPACE: home,
        }
        secret["type"] = f"/{name}"  # KubeVela's type for a template without an output
    live = await ctx.read(_secret(p.name, namespace))
    if live is not None:
        if _labels(live).get(TYPE, "") != labels[TYPE]:
            await ctx.fail(
                f"config {namespace}/{p.name} exists with template {_labels(live).get(TYPE, '')!r}: "
                f"the template of a config cannot be changed (to {labels[TYPE]!r}); delete it first"
            )
        if "type" in secret and live.get("type") != secret["type"]:
            await ctx.fail(
                f"Secret {namespace}/{p.name} has type {live.get('type')!r}: a config's type cannot change"
            )
    secret["metadata"] = {
        "name": p.name,
        "namespace": namespace,
        "labels": labels,
        "annotations": {**notes, ALIAS: "", DESCRIPTION: ""},
    }
    secret["data"] = {PROPERTIES: encode_properties(p.config)}
    await ctx.apply(secret)


@attrs.frozen(kw_only=True)
class ReadConfigParams(_NamedConfig):
    """Parameters of ``read-config``.

    Attributes:
        name: The config's name.
        namespace: Where the config lives; the app's namespace when unset.
    """

    name: str
    namespace: str | None = None


@attrs.frozen(kw_only=True)
class ReadConfigOutputs:
    """A config's content.

    Attributes:
        config: The config's properties.
    """

    config: dict[str, Any]


@step(name="read-config", params=ReadConfigParams)
async def read_config(p: ReadConfigParams, ctx: StepContext) -> ReadConfigOutputs:
    """Read a config's properties (refused for a sensitive config, as KubeVela does)."""
    namespace = p.namespace or ctx.namespace
    live = await ctx.read(_secret(p.name, namespace))
    if live is None:
        await ctx.fail(f"config {namespace}/{p.name} does not exist")
        raise AssertionError("unreachable: a failed step does not resume")
    if _annotations(live).get(SENSITIVE) == "true":
        await ctx.fail(f"config {namespace}/{p.name} is sensitive: workflows may not read it")
    properties = decode_properties(live)
    if properties is None:
        await ctx.fail(f"Secret {namespace}/{p.name} is not a config: it has no {PROPERTIES} JSON object")
        raise AssertionError("unreachable: a failed step does not resume")
    return ReadConfigOutputs(config=properties)


@attrs.frozen(kw_only=True)
class ListConfigParams(Params):
    """Parameters of ``list-config``.

    Attributes:
        template: The template whose configs to list (``name`` or ``namespace/name``).
        namespace: Where to look; the app's namespace when unset.
    """

    template: str
    namespace: str | None = None

    def validate(self) -> None:
        if not is_ref(self.template) and not split_template(self.template)[1]:
            raise ValueError(
                f"template {self.template!r} names no template: write `name` or `namespace/name`"
            )


@attrs.frozen(kw_only=True)
class ListConfigOutputs:
    """The configs found.

    Attributes:
        configs: One entry per config, by name: its ``name``, ``alias``, ``description`` and
            ``config`` (its properties; None for a sensitive config).
    """

    configs: list[dict[str, Any]]


@step(name="list-config", params=ListConfigParams)
async def list_config(p: ListConfigParams, ctx: StepContext) -> ListConfigOutputs:
    """List the configs of one template, with their properties (not a sensitive one's)."""
    selector = {CATALOG: VELA_CORE, TYPE: split_template(p.template)[1]}
    found = await ctx.list("v1", "Secret", namespace=p.namespace or ctx.namespace, labels=selector)
    configs: list[dict[str, Any]] = []
    for live in sorted(found, key=lambda o: str(o["metadata"]["name"])):
        notes = _annotations(live)
        sensitive = notes.get(SENSITIVE) == "true"
        configs.append(
            {
                "name": live["metadata"]["name"],
                "alias": notes.get(ALIAS, ""),
                "description": notes.get(DESCRIPTION, ""),
                "config": None if sensitive else decode_properties(live),
            }
        )
    return ListConfigOutputs(configs=configs)


@attrs.frozen(kw_only=True)
class DeleteConfigParams(_NamedConfig):
    """Parameters of ``delete-config``.

    Attributes:
        name: The config's name.
        namespace: Where the config lives; the app's namespace when unset.
    """

    name: str
    namespace: str | None = None


@step(name="delete-config", params=DeleteConfigParams)
async def delete_config(p: DeleteConfigParams, ctx: StepContext) -> None:
    """Delete a config, and the objects its template rendered (KubeVela records them in it).

    An absent config is reported in the step's log, not an error (KubeVela fails): a run killed
    after the delete resumes this step, and must not fail on what it did itself.
    """
    namespace = p.namespace or ctx.namespace
    ref = _secret(p.name, namespace)
    live = await ctx.read(ref)
    if live is None:
        # Gone already (deleted by hand, or by this step before a killed run resumed it): the
        # config is absent, which is what the step is for; say so rather than fail the resume.
        await ctx.log(f"config {namespace}/{p.name} does not exist: nothing to delete")
        return
    if _labels(live).get(CATALOG) != VELA_CORE:
        await ctx.fail(
            f"Secret {namespace}/{p.name} is not a config (no label {CATALOG}={VELA_CORE}): not deleted"
        )
    for obj in _rendered(live):
        await ctx.delete(obj)
    await ctx.delete(ref)


def _rendered(secret: Mapping[str, Any]) -> list[ObjectRef]:
    raw = as_map(secret.get("data")).get(OBJECTS)
    try:
        refs: Any = json.loads(base64.b64decode(str(raw), validate=True)) if raw else []
    except (binascii.Error, ValueError):
        return []
    out: list[ObjectRef] = []
    for item in as_list(refs):
        r = as_map(item)
        if r.get("name") and r.get("kind"):
            out.append(
                ObjectRef(
                    str(r.get("apiVersion") or ""),
                    str(r.get("kind") or ""),
                    str(r.get("namespace") or ""),
                    str(r["name"]),
                )
            )
    return out
