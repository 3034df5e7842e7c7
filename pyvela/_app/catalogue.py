"""The catalogue: the definitions an app may use, built explicitly from modules."""

from __future__ import annotations

import functools
import hashlib
import importlib
import pkgutil
import sys
import traceback
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard

import attrs

from pyvela._app import sourcefiles
from pyvela._core import builtin as builtin_module
from pyvela._core.definitions import ComponentDefinition, PolicyDefinition, TraitDefinition
from pyvela._core.steps import StepDefinition, StepGroup
from pyvela.errors import DefinitionError, Location, PyvelaError, UnknownDefinitionError

if TYPE_CHECKING:
    from pyvela._core.guardrails import CheckDefinition

AnyDefinition: TypeAlias = (
    "ComponentDefinition[Any, Any] | TraitDefinition[Any, Any] | StepDefinition[Any, Any, Any] "
    "| PolicyDefinition[Any, Any] | CheckDefinition"
)

DEFAULT_MODULES = ("platform_defs",)
STDLIB = "pyvela.stdlib"

_KINDS: Mapping[type[Any], str] = {
    ComponentDefinition: "component",
    TraitDefinition: "trait",
    StepDefinition: "step",
    PolicyDefinition: "policy",
}
#: What the catalogue collects from a module (and ``scripts/stdlib-index`` from the standard library).
DEFINITION_TYPES = tuple(_KINDS)


def _is_check(value: object) -> TypeGuard[CheckDefinition]:
    """Whether ``value`` is a guardrail. Until a module imports the guardrails' core, none
    exists: an app without them does not import it (``render`` starts faster)."""
    module = sys.modules.get("pyvela._core.guardrails")
    return module is not None and isinstance(value, module.CheckDefinition)


def kind_of(definition: AnyDefinition) -> str:
    if _is_check(definition):  # not in _KINDS: the standard library's are never implicit
        return "check"
    for cls, kind in _KINDS.items():
        if isinstance(definition, cls):
            return kind
    raise TypeError(definition)


@attrs.frozen
class Catalogue:
    """Definitions by kind and name, and where they were found.

    Build one with :meth:`from_modules`; decorators never register anything themselves.
    """

    modules: tuple[str, ...]
    definitions: Mapping[tuple[str, str], AnyDefinition]
    #: ``(label, path)``: the label (module name and path inside it) is what the revision
    #: hashes, so moving the checkout does not change the revision.
    files: tuple[tuple[str, str], ...] = ()
    #: Definitions :meth:`require` has found here (by id: an app uses each one many times).
    _found: dict[int, AnyDefinition] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    @classmethod
    def from_modules(
        cls, modules: Iterable[str | ModuleType] = DEFAULT_MODULES, *, stdlib: bool = False
    ) -> Catalogue:
        """Collect every definition object in ``modules`` (packages are walked), over the builtins
        and the standard library (``pyvela.stdlib``: KubeVela's built-in definitions).

        A definition of ``modules`` replaces a standard one of the same kind and name (a team's
        own ``webservice``). The loader passes ``stdlib=True`` for an app that uses a standard
        definition (see :func:`uses_stdlib`), so an app that does not is neither slowed down
        nor changed by it; ``pyvela defs`` always does.

        Raises:
            DefinitionError: a module cannot be imported, or two definitions of the same
                kind in ``modules`` share a name (both locations are given).
        """
        found: dict[tuple[str, str], AnyDefinition] = {}
        names: list[str] = []
        files: list[tuple[str, str]] = _files_of(builtin_module)
        standard: Mapping[tuple[str, str], AnyDefinition] = {}
        if stdlib:
            files.extend(_files_of(_import(STDLIB)))
            standard = _Standard()
        for module in modules:
            mod = _import(module) if isinstance(module, str) else module
            names.append(mod.__name__)
            files.extend(_files_of(mod))
            for team_definition in _definitions_in(mod):
                _add(found, team_definition)
        return cls(tuple(names), _Layered(_Builtin(), standard, found), tuple(files))

    def get(self, kind: str, name: str) -> AnyDefinition | None:
        return self.definitions.get((kind, name))

    @property
    def checks(self) -> tuple[CheckDefinition, ...]:
        """The guardrails on for apps of this catalogue (by name): the modules' own, never the
        standard library's unless a module holds them (``docs/guardrails.md``)."""
        # By key first: reading every value would import the whole lazy standard library.
        found = [self.definitions[key] for key in self.definitions if key[0] == "check"]
        return tuple(sorted((d for d in found if _is_check(d)), key=lambda d: d.name))

    def names(self, kind: str) -> list[str]:
        return sorted(name for k, name in self.definitions if k == kind)

    def step_type(self, name: str, **context: Any) -> StepDefinition[Any, Any, Any] | type[StepGroup]:
        """The step definition an app names by type (as a KubeVela YAML app does).

        ``step-group`` is :class:`~pyvela.StepGroup` (KubeVela's built-in group, whatever the
        modules define). A KubeVela step pyvela does not support is refused saying why.

        Raises:
            UnknownDefinitionError: no step of that name (the known ones are listed), or one of
                KubeVela's steps that pyvela does not support (``pyvela.stdlib.unsupported``).
        """
        if name == "step-group":
            return StepGroup
        found = self.definitions.get(("step", name))
        if isinstance(found, StepDefinition):
            return found
        where = context.pop("where", None)
        # By name: the catalogue may not import the standard library (it is above the layers).
        reason = importlib.import_module(STDLIB + ".unsupported").why(name)
        if reason is not None:
            raise UnknownDefinitionError(
                f"step type {name!r} is not supported, because {reason}",
                where=where,
                definition=name,
                got=name,
                fix="remove the step, or replace it as the reason says",
                **context,
            )
        raise UnknownDefinitionError(
            f"step definition {name!r} is not in the catalogue",
            where=where,
            definition=name,
            expected=f"one of: step-group, {', '.join(self.names('step'))} "
            f"(modules: {', '.join(self.modules)})",
            got=repr(name),
            fix="define it in a catalogue module, or add its module with --defs",
            **context,
        )

    def require(self, definition: AnyDefinition, **context: Any) -> None:
        """Raise UnknownDefinitionError when ``definition`` is not this catalogue's."""
        if self._found.get(id(definition)) is definition:
            return
        kind = kind_of(definition)
        # A step wrapped for KubeVela's data flow (``kubevela_step``) is its base's use.
        base = getattr(getattr(definition, "run", None), "base", definition)
        if self.definitions.get((kind, definition.name)) in (definition, base):
            self._found[id(definition)] = definition
            return
        where = context.pop("where", None)
        raise UnknownDefinitionError(
            f"{kind} definition {definition.name!r} is not in the catalogue",
            where=where,
            definition=definition.name,
            expected=f"one of: {', '.join(self.names(kind)) or 'none'} (modules: {', '.join(self.modules)})",
            got=f"{definition.name!r} defined at {definition.where}",
            fix=_defs_hint(definition),
            **context,
        )

    def fingerprint(self) -> str:
        """A hash of the definitions and their modules' files: part of the app revision."""
        keys, files = sorted(self.definitions), sorted(set(self.files))

        def compute() -> str:
            digest = hashlib.sha256()
            for key in keys:
                digest.update(repr(key).encode())
            for label, file in files:
                digest.update(label.encode())
                try:
                    digest.update(Path(file).read_bytes())
                except OSError:
                    continue
            return digest.hexdigest()

        return sourcefiles.fingerprint(keys, files, compute)


class _Builtin(Mapping[tuple[str, str], AnyDefinition]):
    """The built-in definitions, each policy's module imported when the policy is read: an app
    without policies imports none of them (``pyvela._core.builtin.INDEX``)."""

    def __init__(self) -> None:
        self._index = builtin_module.INDEX
        self._read: dict[tuple[str, str], AnyDefinition] = {}

    def __getitem__(self, key: tuple[str, str]) -> AnyDefinition:
        found = self._read.get(key)
        if found is None:
            found = self._read[key] = builtin_module.builtin(key)
        return found

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return key in self._index


class _Standard(Mapping[tuple[str, str], AnyDefinition]):
    """The standard library's definitions, each module imported when one of its names is read:
    an app that uses three definitions does not import all sixty (``pyvela/stdlib/_index.py``)."""

    def __init__(self) -> None:
        self._index: Mapping[tuple[str, str], tuple[str, str]] = importlib.import_module(
            STDLIB + "._index"
        ).DEFINITIONS
        # Read once: an app of a thousand components looks each definition up per use.
        self._read: dict[tuple[str, str], AnyDefinition] = {}

    def __getitem__(self, key: tuple[str, str]) -> AnyDefinition:
        found = self._read.get(key)
        if found is None:
            module, attribute = self._index[key]
            found = self._read[key] = getattr(_import(f"{STDLIB}.{module}"), attribute)
        return found

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return key in self._index


class _Layered(Mapping[tuple[str, str], AnyDefinition]):
    """The builtins, under the standard library, under the modules' own definitions (a team's
    ``webservice`` replaces the standard one), read without forcing the standard library."""

    def __init__(self, *layers: Mapping[tuple[str, str], AnyDefinition]) -> None:
        self._layers = layers[::-1]

    def __getitem__(self, key: tuple[str, str]) -> AnyDefinition:
        for layer in self._layers:
            if key in layer:
                return layer[key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter({key: None for layer in self._layers[::-1] for key in layer})

    def __len__(self) -> int:
        return len({key for layer in self._layers for key in layer})

    def __contains__(self, key: object) -> bool:
        return any(key in layer for layer in self._layers)


def _defs_hint(definition: AnyDefinition) -> str:
    """The --defs that would hold ``definition``: its top package, as `pyvela new platform` makes."""
    fn = getattr(definition, "render", None) or getattr(definition, "run", None)
    module = str(getattr(fn, "__module__", "") or "")
    if not module or module.startswith(("pyvela", "__main__")):  # an app file's own, or pyvela's
        return "define it in a catalogue module, or add its module with --defs"
    return f"add its package to the catalogue: --defs {module.split('.')[0]} (or PYVELA_DEFS)"


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except (PyvelaError, KeyboardInterrupt):
        raise
    except ImportError as exc:
        raise DefinitionError(
            f"cannot import definitions module {name!r}: {exc}",
            where=_origin(exc),
            fix="install it, or run from the directory that holds it, or pass --defs MODULE",
        ) from exc
    except BaseException as exc:  # a module that exits at import is broken too
        detail = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        raise DefinitionError(
            f"importing definitions module {name!r} failed: {type(exc).__name__}: {detail}",
            where=_origin(exc),
            fix="fix the module (it must import cleanly), or leave it out of --defs / PYVELA_DEFS",
        ) from exc


def _origin(exc: BaseException) -> Location | None:
    """The line that raised: a syntax error's own line, else the deepest frame outside importlib."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return Location(exc.filename, exc.lineno or 0)
    machinery = str(Path(importlib.__file__ or "").parent)  # import_module's own frame is no one's line
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(("<frozen ", machinery))
    ]
    if not frames or frames[-1].filename == __file__:
        return None
    return Location(frames[-1].filename, frames[-1].lineno or 0)


def _walk(module: ModuleType) -> Iterable[ModuleType]:
    yield module
    path = getattr(module, "__path__", None)
    if path is None:
        return
    for info in pkgutil.walk_packages(path, module.__name__ + "."):
        yield _import(info.name)


_STDLIB_DIR = Path(__file__).resolve().parent.parent / "stdlib"


def is_standard(definition: AnyDefinition) -> bool:
    """Whether ``definition`` is one of ``pyvela.stdlib``'s (by where it is defined)."""
    return _in_stdlib(definition.where.file)


@functools.lru_cache(maxsize=1024)
def _in_stdlib(file: str) -> bool:
    return Path(file).resolve().is_relative_to(_STDLIB_DIR)


def _definitions_in(module: ModuleType) -> list[AnyDefinition]:
    found: list[AnyDefinition] = []
    for sub in _walk(module):
        # A module's own checks, and those it imports, are on: it is how a platform turns them
        # on. The standard ones are a platform's choice: `--defs pyvela.stdlib.guardrails` (or a
        # module importing them), never merely walked into by `--defs pyvela.stdlib`.
        walked_into_stdlib = sub is not module and sub.__name__.startswith(STDLIB + ".")
        for value in vars(sub).values():
            if _is_check(value):
                if not walked_into_stdlib:
                    found.append(value)
            elif isinstance(value, DEFINITION_TYPES):
                found.append(value)
    return found


def _add(found: dict[tuple[str, str], AnyDefinition], definition: AnyDefinition) -> None:
    key = (kind_of(definition), definition.name)
    other = found.get(key)
    if other is None:
        found[key] = definition
    elif other is not definition:
        raise DefinitionError(
            f"two {key[0]} definitions are named {key[1]!r}",
            where=definition.where,
            got=f"also defined at {other.where}",
            fix="rename one of them",
        )


def _files_of(module: ModuleType) -> list[tuple[str, str]]:
    """Source files whose change must change the app revision (templates included), each
    labelled by its module and its path inside the module, never by where the checkout is."""
    path = getattr(module, "__path__", None)
    if path is not None:
        return sourcefiles.package_files(
            module.__name__,
            list(path),
            lambda: sorted(
                (f"{module.__name__}:{f.relative_to(root).as_posix()}", str(f))
                for root in path
                for f in Path(root).rglob("*")
                if f.is_file() and "__pycache__" not in f.parts and f.suffix not in {".pyc", ".pyo"}
            ),
        )
    file = getattr(module, "__file__", None)
    return [(f"{module.__name__}:{Path(file).name}", file)] if file else []
