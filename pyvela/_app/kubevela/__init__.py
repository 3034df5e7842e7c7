"""KubeVela YAML: ``core.oam.dev/v1beta1`` Applications run as pyvela apps, and
``ComponentDefinition``s with ``kube`` schematics loaded as component definitions.

``marked`` (YAML with lines), ``props`` (camelCase properties into parameter classes),
``expressions`` (the CUE subset of ``valueFrom``/``if``, parsed with lark), ``dataflow``
(computed outputs, conditions), ``app`` and ``workflow`` (the Application), ``kube``
(kube schematics). Imports ``pyvela._app`` (application, catalogue) and ``pyvela._core``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from pyvela._app.application import Application
from pyvela._app.catalogue import Catalogue
from pyvela._app.kubevela.marked import Node, load_documents
from pyvela.errors import AppLoadError, DefinitionError

API_VERSION = "core.oam.dev/v1beta1"
YAML_SUFFIXES = (".yaml", ".yml")


def is_yaml(path: str | Path) -> bool:
    return Path(path).suffix.lower() in YAML_SUFFIXES


def _split(docs: Iterable[Node], file: str) -> tuple[list[Node], list[Node]]:
    apps, defs = [], []
    for doc in docs:
        if not doc.is_map:
            raise AppLoadError(
                f"a document of {file} is not a mapping",
                where=doc.where,
                got=repr(doc.value)[:60],
                fix="each document is a mapping: a core.oam.dev/v1beta1 Application or a ComponentDefinition",
            )
        api, kind = doc.value.get("apiVersion"), doc.value.get("kind")
        if kind in ("Application", "ComponentDefinition") and api != API_VERSION:
            raise AppLoadError(
                f"{kind} has apiVersion {api!r}",
                where=doc.key_where("apiVersion"),
                expected=API_VERSION,
                got=repr(api),
                fix=f"use apiVersion: {API_VERSION}",
            )
        if kind == "Application":
            apps.append(doc)
        elif kind == "ComponentDefinition":
            defs.append(doc)
        else:
            raise AppLoadError(
                f"{file} holds a {kind or 'document without a kind'}, which pyvela does not run from YAML",
                where=doc.where,
                expected=f"{API_VERSION} Application, or ComponentDefinition with a kube schematic",
                got=f"{api} {kind}" if kind else "no kind" + (f" (apiVersion {api})" if api else ""),
                fix=_not_run_fix(kind),
            )
    return apps, defs


def _not_run_fix(kind: object) -> str:
    """What to do with a document pyvela does not run: its fix depends on what it is."""
    if not kind:
        return "add `kind: Application` (apiVersion core.oam.dev/v1beta1) at the document's top"
    if kind in ("TraitDefinition", "WorkflowStepDefinition", "PolicyDefinition"):
        return "Trait and WorkflowStep definitions (CUE) are written in Python: give their module with --defs"
    return (
        "keep only the Application (and kube ComponentDefinitions) in the file; "
        "a raw object goes in a k8s-objects component"
    )


def definition_files(names: Sequence[str]) -> tuple[list[str | ModuleType], list[str]]:
    """The catalogue's modules: Python module names kept, YAML files loaded as modules of
    kube-schematic component definitions; and the warnings those raised."""
    from pyvela._app.kubevela.kube import definitions_module

    modules: list[str | ModuleType] = []
    warnings: list[str] = []
    for name in names:
        if not is_yaml(name):
            modules.append(name)
            continue
        path = Path(name)
        if not path.is_file():
            raise DefinitionError(f"definitions file {name!r} does not exist", fix="check the --defs path")
        apps, defs = _split(load_documents(path), name)
        if apps:
            raise DefinitionError(
                f"definitions file {name} holds an Application",
                where=apps[0].where,
                fix="give the Application as the app file, not with --defs",
            )
        module, found = definitions_module(defs, name)
        modules.append(module)
        warnings.extend(found)
    return modules, warnings


def load_yaml(path: Path, modules: Sequence[str]) -> tuple[Application, Catalogue, list[str], dict[str, Any]]:
    """The Application of a KubeVela YAML file (with its own kube ComponentDefinitions, if any),
    the catalogue it resolves against, warnings, and what the app's spec adds to what
    ``app_spec`` describes (computed outputs' expressions, which change the revision).

    Raises:
        AppLoadError, ParameterError, UnknownDefinitionError...: naming the YAML file and line.
    """
    from pyvela._app.kubevela.app import build_application, used_types
    from pyvela._app.kubevela.kube import definitions_module

    file = str(path)
    apps, defs = _split(load_documents(path), file)
    if len(apps) != 1:
        names = ", ".join(repr(a.value.get("metadata", {}).get("name")) for a in apps)
        raise AppLoadError(
            f"{file} holds {len(apps)} Applications" + (f" ({names})" if apps else ""),
            where=apps[1].where if apps else None,
            expected="exactly one core.oam.dev/v1beta1 Application",
            fix="keep one Application per file (the other documents may be kube ComponentDefinitions)",
        )
    catalogue_modules, warnings = definition_files(modules)
    if defs:
        own, found = definitions_module(defs, file)
        catalogue_modules.append(own)
        warnings.extend(found)
    catalogue = Catalogue.from_modules(catalogue_modules)
    if any(catalogue.get(kind, name) is None for kind, name in used_types(apps[0])):
        catalogue = Catalogue.from_modules(catalogue_modules, stdlib=True)
    app, catalogue, spec = build_application(apps[0], catalogue)
    return app, catalogue, warnings, spec
