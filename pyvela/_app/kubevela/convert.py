"""``pyvela convert``: KubeVela YAML into Python modules, from the model the YAML loader builds.

The app module is written from the loaded :class:`~pyvela._app.application.Application`
(each use calls the definition object the catalogue resolved, a step's input is the
upstream step's ``outputs.<field>``); the definitions module from the kube schematics
(``convert_defs``). What has no Python spelling (computed ``valueFrom`` outputs, ``if``
conditions, inputs into a component's properties) is kept as a TODO(convert) comment and
listed in the result, never dropped silently.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs

from pyvela._app.catalogue import Catalogue
from pyvela._app.kubevela import API_VERSION, is_yaml
from pyvela._app.kubevela.app import build_application
from pyvela._app.kubevela.convert_app import DEFS_MODULE, ENV, app_source, identifier
from pyvela._app.kubevela.convert_defs import definitions_source, split_documents, step_outputs
from pyvela._app.kubevela.marked import Node, load_documents
from pyvela.errors import AppLoadError, Location


@attrs.frozen
class Converted:
    """What ``convert`` wrote, and what the user must finish by hand."""

    files: tuple[Path, ...]
    todos: tuple[str, ...]
    formatted: bool


def convert(
    sources: Sequence[Path], out: Path, modules: Sequence[str] | None, fallback: Sequence[str] = ()
) -> Converted:
    """Write ``kubevela_defs.py`` (the definitions the files hold) and ``<app>.py`` (their
    Application, if any) into ``out``.

    The app resolves its types against the generated definitions, over ``modules`` (for the
    types the files do not define) and the standard library; ``modules=None`` means none when
    the files hold definitions, else ``fallback`` (the CLI's platform_defs / PYVELA_DEFS).

    Raises:
        AppLoadError, DefinitionError, ...: the loader's errors, naming the YAML file and line.
    """
    apps: list[Node] = []
    defs_docs: list[Node] = []
    for path in sources:
        if not path.is_file():
            raise AppLoadError(
                f"{str(path)!r} does not exist" if not path.exists() else f"{str(path)!r} is not a file",
                expected="a KubeVela YAML file (Application or definitions)",
                fix="give the path of a .yaml file",
            )
        if not is_yaml(path):
            raise AppLoadError(
                f"{path} is not a YAML file",
                expected="KubeVela YAML (.yaml or .yml): an Application or definitions",
                got=path.suffix or "no suffix",
                fix="give the KubeVela YAML to convert (a Python app is already Python)",
            )
        app_docs, definitions = split_documents(load_documents(path), str(path))
        apps.extend(app_docs)
        defs_docs.extend(definitions)
    if not apps and not defs_docs:
        raise AppLoadError(
            "nothing to convert: the files hold no Application and no definition",
            expected=f"{API_VERSION} Application, ComponentDefinition, TraitDefinition or "
            "WorkflowStepDefinition",
            fix="give the KubeVela YAML files of the app and its definitions",
        )
    _make_output_dir(out)
    files: list[Path] = []
    todos: list[str] = []
    previous = sys.modules.get(DEFS_MODULE)
    try:
        if modules is None:
            modules = () if defs_docs else fallback
        catalogue = Catalogue.from_modules(modules, stdlib=True)
        _convert(apps, defs_docs, sources, out, catalogue, files, todos)
    finally:
        if previous is None:
            sys.modules.pop(DEFS_MODULE, None)
        else:
            sys.modules[DEFS_MODULE] = previous
    formatted = _format(files)
    return Converted(tuple(files), tuple(todos), formatted)


def _convert(
    apps: list[Node],
    defs_docs: list[Node],
    sources: Sequence[Path],
    out: Path,
    catalogue: Catalogue,
    files: list[Path],
    todos: list[str],
) -> None:
    generated: dict[tuple[str, str], str] = {}
    if defs_docs:
        text, generated, stub_todos = definitions_source(
            defs_docs, ENV, [s.name for s in sources], step_outputs(apps)
        )
        defs_file = _write(out / f"{DEFS_MODULE}.py", text)
        files.append(defs_file)
        todos.extend(stub_todos)
        catalogue = _with_generated(catalogue, defs_file)
    for doc in apps:
        app, _, extra = build_application(doc, catalogue)
        flow = extra.get("kubevelaDataFlow", {})
        text, app_todos = app_source(app, catalogue, generated, flow, source=Path(doc.file).name)
        module = identifier(app.name)
        # Never shadow a module the generated code imports (a file beside it wins on sys.path).
        if module in {DEFS_MODULE, "pyvela", "attrs", *(m.split(".")[0] for m in catalogue.modules)}:
            module += "_app"
        target = out / f"{module}.py"
        if target in files:
            raise AppLoadError(
                f"two Applications would both be written to {target.name}",
                where=doc.where,
                got=f"Application {app.name!r} (another Application has the same Python name)",
                fix="convert them into different directories (-o)",
            )
        files.append(_write(target, text))
        todos.extend(f"{doc.file}: {t}" for t in app_todos)


def _with_generated(catalogue: Catalogue, file: Path) -> Catalogue:
    """``catalogue`` with the generated definitions in place of any of the same kind and name:
    the definitions given to convert are the ones the app is converted against."""
    spec = importlib.util.spec_from_file_location(DEFS_MODULE, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered while the app is built (parameter checks resolve annotations through it);
    # ``convert`` puts back what was there.
    sys.modules[DEFS_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # generated code that fails to import is a bug of convert: said plainly
        raise AppLoadError(
            f"the generated {file.name} does not import: {type(exc).__name__}: {exc}",
            where=Location(str(file), 1),
            fix="report this as a pyvela convert bug, with the YAML that produced it",
        ) from None
    own = Catalogue.from_modules([module])
    definitions = {**catalogue.definitions, **own.definitions}
    return attrs.evolve(catalogue, modules=(*catalogue.modules, DEFS_MODULE), definitions=definitions)


def _make_output_dir(out: Path) -> None:
    """Create ``-o DIR`` before anything is converted: an existing file there (or a directory
    that cannot be made) is one message, not an OSError traceback after the work is done."""
    if out.exists() and not out.is_dir():
        raise AppLoadError(
            f"the output directory {str(out)!r} is an existing file",
            expected="a directory (created when missing)",
            got="a file",
            fix=f"give another -o DIR, e.g. -o {out.with_suffix('')}-converted/",
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AppLoadError(
            f"cannot create the output directory {str(out)!r}: {exc.strerror or exc}",
            expected="a directory pyvela may create and write",
            fix="give -o a writable directory",
        ) from None


def _write(path: Path, text: str) -> Path:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise AppLoadError(
            f"cannot write {str(path)!r}: {exc.strerror or exc}",
            expected="a writable output directory",
            fix="give -o a writable directory",
        ) from None
    return path


def _format(files: Sequence[Path]) -> bool:
    """``ruff format`` the files when ruff is on PATH; the templates are well-formed without it."""
    ruff = shutil.which("ruff")
    if ruff is None or not files:
        return False
    done = subprocess.run(
        [ruff, "format", "--quiet", "--line-length", "110", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode == 0
