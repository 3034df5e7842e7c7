"""The pyvela app an ``applications.pyvela.dev`` resource describes, loaded as the CLI loads
a file: ``spec.components``… through the KubeVela-YAML loader, ``spec.module`` by importing
the module's file (so each reconcile sees the module as it is now)."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from pyvela._app.loader import LoadedApp, load_app
from pyvela.errors import AppLoadError

KUBEVELA_API_VERSION = "core.oam.dev/v1beta1"


def kubevela_document(body: Mapping[str, Any]) -> dict[str, Any]:
    """The resource as the KubeVela Application the YAML loader reads (same name and namespace)."""
    meta = body.get("metadata") or {}
    spec = {
        k: v for k, v in dict(body.get("spec") or {}).items() if k in ("components", "policies", "workflow")
    }
    return {
        "apiVersion": KUBEVELA_API_VERSION,
        "kind": "Application",
        "metadata": {"name": meta.get("name"), "namespace": meta.get("namespace")},
        "spec": spec,
    }


def module_file(module: str) -> Path:
    """Where the importable module ``module`` lives (found, not imported: the loader imports it)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as exc:
        spec, why = None, str(exc)
    else:
        why = "no such module"
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise AppLoadError(
            f"spec.module {module!r} cannot be imported by the controller: {why}",
            expected="a Python module defining `app`, on the controller's import path",
            got=module,
            fix="install the module in the controller's image, or set PYTHONPATH",
        )
    return Path(spec.origin)


def load_resource(body: Mapping[str, Any], workdir: Path, defs: Sequence[str] | None = None) -> LoadedApp:
    """Load the app of the resource ``body``; ``workdir`` holds the YAML the loader reads
    (its errors name that file and line)."""
    spec = body.get("spec") or {}
    own_defs = [str(d) for d in spec.get("defs") or []] or None
    defs = own_defs or (list(defs) if defs else None)
    module = spec.get("module")
    if module:
        return load_app(module_file(str(module)), defs=defs)
    meta = body.get("metadata") or {}
    folder = workdir / str(meta.get("namespace") or "default")
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"{meta.get('name')}.yaml"
    # libyaml's dumper writes the same text in a quarter of the time (a restart loads every app).
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    file.write_text(yaml.dump(kubevela_document(body), Dumper=dumper, sort_keys=False))
    return load_app(file, defs=defs)
