"""Loading an app module from a file and checking it against the catalogue."""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from pyvela._app.application import Application, Plan, app_spec, revision_hash, validate
from pyvela._app.catalogue import DEFAULT_MODULES, Catalogue
from pyvela.errors import AppLoadError, Location, PyvelaError


@attrs.frozen(kw_only=True)
class LoadedApp:
    """A validated app with everything the renderer and runner need."""

    path: Path
    app: Application
    catalogue: Catalogue
    plan: Plan
    spec: dict[str, Any]
    revision: str
    module: Any = attrs.field(repr=False, default=None)


def definition_modules(explicit: Sequence[str] | None = None) -> tuple[str, ...]:
    """The catalogue's modules: ``--defs``, else ``PYVELA_DEFS`` (comma-separated), else platform_defs."""
    if explicit:
        return tuple(explicit)
    env = os.environ.get("PYVELA_DEFS", "")
    return tuple(m.strip() for m in env.split(",") if m.strip()) or DEFAULT_MODULES


def load_app(path: str | Path, *, defs: Sequence[str] | None = None, attribute: str = "app") -> LoadedApp:
    """Import the app file, find ``app``, build the catalogue and validate.

    Raises:
        AppLoadError: the file is missing, fails to import (the location of the failing
            line is given), or holds no Application called ``attribute``.
        PyvelaError: any validation error, with the file and line of the offending use.
    """
    file = Path(path)
    if not file.is_file():
        raise AppLoadError(
            f"app file {str(path)!r} does not exist",
            expected="a Python file defining `app`",
            fix="check the path (apps live in apps/, e.g. apps/lixiang.py)",
        )
    _ensure_import_path(file)
    module = _import_file(file)
    app = getattr(module, attribute, None)
    if not isinstance(app, Application):
        raise AppLoadError(
            f"{file} defines no `{attribute}` Application",
            where=Location(str(file), 1),
            expected=f"{attribute} = pyvela.Application(...)",
            got=type(app).__name__ if app is not None else "nothing",
        )
    catalogue = Catalogue.from_modules(definition_modules(defs))
    plan = validate(app, catalogue)
    spec = app_spec(app, plan)
    return LoadedApp(
        path=file,
        app=app,
        catalogue=catalogue,
        plan=plan,
        spec=spec,
        revision=revision_hash(spec, catalogue),
        module=module,
    )


def _ensure_import_path(file: Path) -> None:
    # Apps import their platform's definitions as a package next to apps/ (platform_defs),
    # as `python -m` from the project root would see them.
    for candidate in (Path.cwd(), file.resolve().parent.parent):
        text = str(candidate)
        if text not in sys.path:
            sys.path.insert(0, text)


def _import_file(file: Path) -> Any:
    name = "pyvela_app_" + "".join(ch if ch.isalnum() else "_" for ch in file.resolve().as_posix())
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise AppLoadError(f"cannot import {file}", fix="an app is a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except PyvelaError:
        sys.modules.pop(name, None)
        raise
    except Exception as exc:
        sys.modules.pop(name, None)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(file)]
        last = frames[-1] if frames else None
        raise AppLoadError(
            f"importing the app failed: {type(exc).__name__}: {exc}",
            where=Location(str(file), last.lineno or 0) if last else Location(str(file), 1),
        ) from exc
    return module
