"""``[tool.pyvela]`` of the project an app belongs to: its catalogue (``defs``), so that a
project ``pyvela new platform`` made needs no ``--defs`` on every command.

The project is the nearest ``pyproject.toml`` above the app file (else above the working
directory). ``--defs`` wins, then ``PYVELA_DEFS``, then the project's ``defs`` (or, for a
project written before ``defs`` existed, its ``package``), then ``platform_defs``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from pyvela.errors import AppLoadError, Location

#: Commands whose --defs means something else (convert: the definitions to convert against).
_NOT_FOR = frozenset({"convert", "new"})


@attrs.frozen
class ProjectConfig:
    """What a project's ``[tool.pyvela]`` says, and where it is."""

    root: Path
    pyproject: Path
    defs: tuple[str, ...]


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` in ``start`` (a directory, or a file's directory) or above."""
    here = start.resolve()
    if not here.is_dir():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_project(pyproject: Path) -> ProjectConfig | None:
    """The project's pyvela settings; None when its pyproject.toml has no ``[tool.pyvela]`` catalogue."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AppLoadError(
            f"cannot read the project's {pyproject.name}: {exc}",
            where=Location(str(pyproject), 1),
            expected="a TOML file (its [tool.pyvela] table names the catalogue)",
            fix=f"fix {pyproject}, or pass --defs MODULE (then its [tool.pyvela] is not needed)",
        ) from None
    table = data.get("tool", {}).get("pyvela") if isinstance(data.get("tool"), dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise _bad(pyproject, "[tool.pyvela]", table, 'a table: [tool.pyvela] defs = ["my_platform"]')
    defs = table.get("defs", table.get("package"))
    key = "defs" if "defs" in table else "package"
    if defs is None:
        return None
    if isinstance(defs, str):
        defs = [defs]
    if not isinstance(defs, list) or not defs or not all(isinstance(d, str) and d.strip() for d in defs):
        raise _bad(
            pyproject, f"[tool.pyvela] {key}", defs, 'a module name or a list of them: defs = ["acme"]'
        )
    root = pyproject.parent
    # A YAML file of kube ComponentDefinitions is named relative to the project, not the cwd.
    names = tuple(
        str(root / d) if d.endswith((".yaml", ".yml")) and not os.path.isabs(d) else d.strip() for d in defs
    )
    return ProjectConfig(root=root, pyproject=pyproject, defs=names)


def _bad(pyproject: Path, key: str, value: Any, expected: str) -> AppLoadError:
    return AppLoadError(
        f"{key} in {pyproject} is not a catalogue",
        where=Location(str(pyproject), _line_of(pyproject, key.split()[-1])),
        expected=expected,
        got=f"{type(value).__name__} {value!r}"[:200],
        fix=f"write {expected.split(': ', 1)[-1]} under [tool.pyvela] in {pyproject.name}, or pass --defs",
    )


def _line_of(pyproject: Path, key: str) -> int:
    try:
        lines = pyproject.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith((key, "[tool.pyvela]")) and key in line:
            return number
    return 1


def _start(args: argparse.Namespace) -> Path:
    candidates: Sequence[Any] = [getattr(args, "app", None), *(getattr(args, "apps", None) or ())]
    for candidate in candidates:
        if isinstance(candidate, str) and Path(candidate).is_file():
            return Path(candidate)
    return Path.cwd()


def apply_project_config(args: argparse.Namespace) -> ProjectConfig | None:
    """Give ``args.defs`` the project's catalogue when neither --defs nor PYVELA_DEFS chose one."""
    if getattr(args, "command", None) in _NOT_FOR or not hasattr(args, "defs") or args.defs:
        return None
    if os.environ.get("PYVELA_DEFS", "").strip():
        return None
    pyproject = find_pyproject(_start(args))
    config = read_project(pyproject) if pyproject is not None else None
    if config is None:
        return None
    args.defs = list(config.defs)
    # The project's package imports from its root, whatever the working directory is.
    if str(config.root) not in sys.path:
        sys.path.insert(0, str(config.root))
    return config
