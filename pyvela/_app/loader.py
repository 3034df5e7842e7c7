"""Loading an app module from a file and checking it against the catalogue."""

from __future__ import annotations

import difflib
import importlib.util
import os
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from pyvela._app.application import Application, Plan, app_spec, default_plan, revision_hash, validate
from pyvela._app.catalogue import DEFAULT_MODULES, Catalogue, is_standard
from pyvela._app.checks import check_shape
from pyvela._core.steps import StepGroup
from pyvela.errors import AppLoadError, Location, PyvelaError


class _Identity:
    """An app's spec and revision, computed when first read: hashing a large app's spec costs
    a seventh of rendering it, and ``render`` needs them only for a definition that reads
    ``ctx.app_revision``. Copies of a LoadedApp (``attrs.evolve``) share it, so a copy with
    another namespace or fewer components keeps the revision of the app as loaded. So with the
    default workflow's plan: a step object per component, which ``render`` never reads."""

    __slots__ = ("_app", "_catalogue", "_extra", "_plan", "_revision", "_spec")

    def __init__(
        self, app: Application, plan: Plan | None, catalogue: Catalogue, extra: dict[str, Any]
    ) -> None:
        self._app, self._plan, self._catalogue, self._extra = app, plan, catalogue, extra
        self._spec: dict[str, Any] | None = None
        self._revision: str | None = None

    def plan(self) -> Plan:
        if self._plan is None:
            self._plan = default_plan(self._app, self._catalogue)
        return self._plan

    def spec(self) -> dict[str, Any]:
        if self._spec is None:
            self._spec = {**app_spec(self._app, self.plan()), **self._extra}
        return self._spec

    def revision(self) -> str:
        if self._revision is None:
            self._revision = revision_hash(self.spec(), self._catalogue)
        return self._revision


@attrs.frozen(kw_only=True)
class LoadedApp:
    """A validated app with everything the renderer and runner need.

    ``plan``, ``spec`` and ``revision`` are given, or computed from ``identity`` when first read.
    """

    path: Path
    app: Application
    catalogue: Catalogue
    _plan: Plan | None = attrs.field(default=None, alias="plan", eq=False, repr=False)
    _spec: dict[str, Any] | None = attrs.field(default=None, alias="spec", eq=False, repr=False)
    _revision: str | None = attrs.field(default=None, alias="revision", eq=False, repr=False)
    module: Any = attrs.field(repr=False, default=None)
    #: Load-time warnings (a KubeVela kube schematic's env var written by position).
    warnings: tuple[str, ...] = ()
    _identity: _Identity | None = attrs.field(default=None, alias="identity", eq=False, repr=False)

    @property
    def plan(self) -> Plan:
        """The app's step plan (validated at load; the default workflow's built when first read)."""
        if self._plan is None:
            if self._identity is None:
                raise AttributeError("a LoadedApp needs a plan or an identity")
            found = self._identity.plan()
            object.__setattr__(self, "_plan", found)
            return found
        return self._plan

    @property
    def spec(self) -> dict[str, Any]:
        """The app as JSON-like data: what the revision hashes and ``status`` describes."""
        if self._spec is None:
            spec = self._identity.spec() if self._identity is not None else {}
            object.__setattr__(self, "_spec", spec)
            return spec
        return self._spec

    @property
    def revision(self) -> str:
        """The app's revision: changes when the app or any definition changes."""
        if self._revision is None:
            found = (
                self._identity.revision()
                if self._identity is not None
                else revision_hash(self.spec, self.catalogue)
            )
            object.__setattr__(self, "_revision", found)
            return found
        return self._revision


def definition_modules(explicit: Sequence[str] | None = None) -> tuple[str, ...]:
    """The catalogue's modules: ``--defs``, else ``PYVELA_DEFS`` (comma-separated), else platform_defs."""
    if explicit:
        return tuple(explicit)
    env = os.environ.get("PYVELA_DEFS", "")
    return tuple(m.strip() for m in env.split(",") if m.strip()) or DEFAULT_MODULES


def uses_stdlib(app: Application) -> bool:
    """Whether any component, trait, step or policy of ``app`` is a standard-library one."""
    check_shape(app)  # before anything reads the uses: a wrong type is one clear error
    uses: list[Any] = [*app.components, *(t for c in app.components for t in c.traits), *app.policies]
    for s in app.workflow.steps if app.workflow else ():
        uses.extend(s.steps if isinstance(s, StepGroup) else [s])
    return any(is_standard(u.definition) for u in uses)


def load_app(path: str | Path, *, defs: Sequence[str] | None = None, attribute: str = "app") -> LoadedApp:
    """Import the app file, find ``app``, build the catalogue and validate.

    Raises:
        AppLoadError: the file is missing, fails to import (the location of the failing
            line is given), or holds no Application called ``attribute``.
        PyvelaError: any validation error, with the file and line of the offending use.
    """
    file = Path(path)
    if file.is_dir():
        apps = sorted(f.name for f in file.glob("*.py"))[:5]
        raise AppLoadError(
            f"{str(path)!r} is a directory, not an app file",
            expected="a Python file defining `app`",
            got="a directory" + (f" holding {', '.join(apps)}" if apps else ""),
            fix=f"name the app's file, e.g. {file / (apps[0] if apps else 'app.py')}",
        )
    if not file.is_file():
        bare = "/" not in str(path) and not file.suffix  # what day-2 commands take as an app's name
        raise AppLoadError(
            f"app file {str(path)!r} does not exist",
            expected="a Python file defining `app` (or a KubeVela Application .yaml)",
            fix=(
                f"if {str(path)!r} is a deployed app's name: this command runs the app's code, so it "
                "needs the app's file (status, history, rollback and delete take the name)"
                if bare
                else "check the path (apps live in apps/, e.g. apps/lixiang.py)"
            ),
        )
    _ensure_import_path(file)
    warnings: list[str] = []
    extra: dict[str, Any] = {}
    module = None
    names = definition_modules(defs)
    if _is_yaml(file):  # a KubeVela Application: the same objects, built from YAML
        from pyvela._app import kubevela

        app, catalogue, warnings, extra = kubevela.load_yaml(file, names)
    else:
        module = _import_file(file)
        found = getattr(module, attribute, None)
        if not isinstance(found, Application):
            raise AppLoadError(
                f"{file} defines no `{attribute}` Application",
                where=Location(str(file), 1),
                expected=f"{attribute} = pyvela.Application(...) (or a KubeVela Application .yaml)",
                got=type(found).__name__ if found is not None else "nothing",
                fix=f'add `{attribute} = Application("name", components=[...])` at the module\'s top level',
            )
        app = found
        modules: list[Any] = list(names)
        if any(_is_yaml(n) for n in names):  # KubeVela ComponentDefinitions given with --defs
            from pyvela._app import kubevela

            modules, warnings = kubevela.definition_files(names)
        catalogue = Catalogue.from_modules(modules, stdlib=uses_stdlib(app))
    plan = validate(app, catalogue)
    return LoadedApp(
        path=file,
        app=app,
        catalogue=catalogue,
        plan=plan,
        identity=_Identity(app, plan, catalogue, extra),
        module=module,
        warnings=tuple(warnings),
    )


def _is_yaml(path: str | Path) -> bool:
    # As kubevela.is_yaml, without importing the KubeVela loader (YAML, lark) for a Python app.
    return Path(path).suffix.lower() in (".yaml", ".yml")


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
    except (PyvelaError, KeyboardInterrupt):
        sys.modules.pop(name, None)
        raise
    except BaseException as exc:  # sys.exit() at import is the app's error too
        sys.modules.pop(name, None)
        raise import_error(file, exc) from exc
    return module


def import_error(file: Path, exc: BaseException) -> AppLoadError:
    """The app's own line that failed (frames name the file as it was given, maybe relative),
    and where the exception really came from when that is another module."""
    target = file.resolve()
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if _same_file(f.filename, target)]
    line = (own[-1].lineno or 1) if own else 1
    origin = None
    if isinstance(exc, SyntaxError) and exc.filename:
        if _same_file(exc.filename, target):
            line = exc.lineno or 1
        else:
            origin = Location(exc.filename, exc.lineno or 0)
    else:
        real = [f for f in frames if not f.filename.startswith("<frozen ")]
        if real and not _same_file(real[-1].filename, target):
            origin = Location(real[-1].filename, real[-1].lineno or 0)
    fix = None
    if isinstance(exc, SystemExit):
        message = f"the app called sys.exit({exc.code!r}) while being imported: nothing was deployed"
        fix = "an app module only defines `app` (and its components and steps); remove the exit"
    elif isinstance(exc, SyntaxError):
        message = f"importing the app failed: SyntaxError: {exc.msg}"
        fix = "correct the Python syntax at that line"
    else:
        message = f"importing the app failed: {type(exc).__name__}: {exc}"
        fix = "the app module must import cleanly: fix what raised there (`python FILE` shows the traceback)"
        if isinstance(exc, TypeError) and "Application.__init__()" in str(exc):
            fix = "Application(name, components=[...], workflow=[...], policies=[...], namespace=...)"
        elif isinstance(exc, TypeError):
            fix = _keyword_fix(exc) or fix
    return AppLoadError(
        message,
        where=Location(str(file), line),
        got=f"raised at {origin}" if origin is not None else None,
        fix=fix,
    )


_UNEXPECTED = re.compile(r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'")
_MISSING = re.compile(r"(\w+)\.__init__\(\) missing \d+ required keyword-only arguments?: (.+)")


def _keyword_fix(exc: TypeError) -> str | None:
    """The fix for a parameter class built with a wrong keyword (``Port(containerPort=80)``,
    KubeVela's camelCase) or without a required one: the field meant, by the class's fields."""
    text = str(exc)
    if re.search(r"Definition\.__call__\(\) missing \d+ required positional argument: 'name'", text):
        return 'give the component or step its name first, e.g. webservice("web", image=...)'
    missing = _MISSING.search(text)
    if missing is not None:
        names = [n.strip(" '") for n in re.split(r",| and ", missing.group(2)) if n.strip(" '")]
        return f"add {', '.join(n + '=...' for n in names)} to {missing.group(1)}(...)"
    unexpected = _UNEXPECTED.search(text)
    if unexpected is None:
        return None
    cls_name, given = unexpected.groups()
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    scope = {**tb.tb_frame.f_globals, **tb.tb_frame.f_locals} if tb is not None else {}
    cls = scope.get(cls_name)
    fields = list(attrs.fields_dict(cls)) if isinstance(cls, type) and attrs.has(cls) else []
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", given).lower()
    close = difflib.get_close_matches(snake, fields, n=1) if fields else ([snake] if snake != given else [])
    if not close:
        return f"{cls_name} takes {', '.join(fields)}" if fields else None
    notes = ["parameters are snake_case"] if snake != given else []
    notes += [f"{cls_name} takes {', '.join(fields)}"] if fields else []
    return f"did you mean {close[0]!r}?" + (f" ({'; '.join(notes)})" if notes else "")


def _same_file(name: str, target: Path) -> bool:
    try:
        return Path(name).resolve() == target
    except (OSError, ValueError):
        return False


def load_application(app: Application, *, defs: Sequence[str] | None = None) -> LoadedApp:
    """An ``Application`` built in code (a test's), checked against the catalogue of ``defs``
    as its file would be, with the revision its file would have."""
    catalogue = Catalogue.from_modules(definition_modules(defs), stdlib=uses_stdlib(app))
    plan = validate(app, catalogue)
    first = app.components[0].where if app.components else None
    return LoadedApp(
        path=Path(first.file) if first is not None else Path("."),
        app=app,
        catalogue=catalogue,
        plan=plan,
        identity=_Identity(app, plan, catalogue, {}),
    )
