"""Operations on an app named by its state record alone (``pyvela delete APP`` without the file).

The record holds what reading, removing and rolling back an app need: every revision's
inventory (with manifests), the objects kept by its garbage-collect rules, what it
registered in the config centre, and its app spec (its resource policies' parameters as
data, its components' types). Deploying, resuming and restarting run the steps' code,
which only the app's source has (``NEEDS_SOURCE``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from pyvela._app.application import Application, Plan
from pyvela._app.catalogue import Catalogue
from pyvela._app.loader import LoadedApp
from pyvela._backends.protocol import Backend
from pyvela._configcentre.protocol import ConfigCentre
from pyvela._core.definitions import PolicyUse
from pyvela._core.objects import ObjectRef
from pyvela._core.params import caller_location
from pyvela._core.policies_builtin import POLICIES, GarbageCollectParams
from pyvela._workflow.events import EventSink
from pyvela._workflow.gc import collect, delete_plan
from pyvela._workflow.registrations import remove
from pyvela._workflow.results import RunResult
from pyvela._workflow.state import AppLock, StateStore, control_ref
from pyvela.errors import StateError

_HERE = caller_location(1)

#: Why a command cannot run from the record alone, by command.
NEEDS_SOURCE = {
    "deploy": "a deploy renders the components and runs the steps, whose code is in the app's source",
    "resume": "resuming runs the remaining steps, whose code is in the app's source",
    "restart": "restarting runs the steps again, whose code is in the app's source",
    "diff": "a diff renders the components from the app's source",
    "render": "a render needs the app's source",
    "config": "the config-centre settings may be defined in the app's module",
}


def latest_policy(record: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    """The properties of the latest revision's policy of type ``kind`` (as ``app_spec`` wrote them)."""
    revisions = record.get("revisions") or []
    for rev in reversed(revisions):
        spec = rev.get("spec")
        if isinstance(spec, Mapping):
            for p in spec.get("policies") or []:
                if isinstance(p, Mapping) and p.get("type") == kind:
                    return dict(p.get("properties") or {})
            return None  # the latest revision with a spec has none
    return None


def gc_from_record(record: Mapping[str, Any]) -> GarbageCollectParams:
    """The garbage-collect policy the app had at its latest revision (the default without one)."""
    props = latest_policy(record, "garbage-collect")
    if props is None:
        return GarbageCollectParams()
    try:
        built = structure(GarbageCollectParams, props)
    except (TypeError, ValueError, KeyError) as exc:
        raise StateError(
            "the garbage-collect policy recorded for this app cannot be read back",
            got=f"{type(exc).__name__}: {exc}",
            fix="delete with the app file: pyvela delete apps/x.py",
        ) from exc
    assert isinstance(built, GarbageCollectParams)
    return built


def recorded_app(record: Mapping[str, Any], namespace: str) -> LoadedApp:
    """The app as its record describes it, for what runs no step code (a rollback): its name,
    namespace and spec, and its resource policies rebuilt from their recorded parameters.

    It has no components or steps: the objects come from the record's inventory, and the
    policies' selectors see the components' types through the spec.
    """
    spec = next((r["spec"] for r in reversed(record.get("revisions") or []) if r.get("spec")), None)
    if not isinstance(spec, Mapping):
        raise StateError(
            f"the record of app {record.get('app')!r} holds no app spec to act on",
            fix="pass the app file instead of its name",
        )
    builtin = {p.name: p for p in POLICIES}
    uses: list[PolicyUse[Any]] = []
    for p in spec.get("policies") or []:
        definition = builtin.get(str(p.get("type")))
        if definition is None:
            continue  # not a resource policy: applying objects does not read it
        try:
            params = structure(definition.params, dict(p.get("properties") or {}))
        except (TypeError, ValueError, KeyError) as exc:
            raise StateError(
                f"the {p.get('type')} policy recorded for this app cannot be read back",
                got=f"{type(exc).__name__}: {exc}",
                fix="pass the app file instead of its name",
            ) from exc
        uses.append(PolicyUse(name=str(p.get("name")), definition=definition, params=params, where=_HERE))
    app = Application(str(record.get("app")), components=(), policies=tuple(uses), namespace=namespace)
    return LoadedApp(
        path=Path(f"<state record of {record.get('app')}>"),
        app=app,
        catalogue=Catalogue(modules=(), definitions={}),
        plan=Plan(mode="StepByStep", steps={}, order=(), groups={}),
        spec=dict(spec),
        revision=str(record["revisions"][-1].get("hash") or ""),
    )


def structure(tp: Any, data: Any) -> Any:
    """``data`` (what ``params_to_data`` wrote) back into ``tp``: attrs classes, tuples, optionals."""
    if attrs.has(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        if not isinstance(data, Mapping):
            raise TypeError(f"{tp.__name__}: expected a mapping, got {type(data).__name__}")
        names = {f.name for f in attrs.fields(tp)}
        unknown = set(data) - names
        if unknown:
            raise KeyError(f"{tp.__name__} has no field {sorted(unknown)[0]!r}")
        return tp(**{k: structure(hints[k], v) for k, v in data.items()})
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        last: Exception | None = None
        for arg in (a for a in args if a is not type(None)):
            try:
                return structure(arg, data)
            except (TypeError, ValueError, KeyError) as exc:
                last = exc
        raise last or TypeError(f"no member of {tp} fits {data!r}")
    if origin is tuple and isinstance(data, list | tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(structure(args[0], v) for v in data)
        return tuple(structure(a, v) for a, v in zip(args, data, strict=True))
    if origin in (list, frozenset, set) and isinstance(data, list | tuple):
        return origin(structure(args[0], v) for v in data)
    return data  # plain values, Literals and mappings are checked by the class itself


def delete_named(
    backend: Backend,
    app: str,
    namespace: str,
    *,
    events: EventSink,
    config_centre: Callable[[], ConfigCentre],
) -> RunResult:
    """Delete everything app ``app`` owns, as its record says, then the record (under its lock)."""
    store = StateStore(backend, app, namespace)
    if backend.get(ObjectRef("v1", "Namespace", "", namespace)) is None:
        return _deleted(backend, app, namespace, None, [], f"namespace {namespace!r} does not exist")
    lock = AppLock(backend, app, namespace)
    lock.acquire()
    try:
        record = store.load()
        if record is None:
            return _deleted(backend, app, namespace, None, [], "nothing to delete")
        return delete_record(backend, store, record, gc_from_record(record), events, config_centre)
    finally:
        lock.release()


def delete_record(
    backend: Backend,
    store: StateStore,
    record: dict[str, Any],
    gc: GarbageCollectParams,
    events: EventSink,
    config_centre: Callable[[], ConfigCentre],
) -> RunResult:
    """What a delete does once the record is loaded under the lock (``AppOps.delete`` too)."""
    app, namespace = store.app, store.namespace
    deleted = collect(
        backend, delete_plan(record, gc), me=f"{namespace}/{app}", events=events, verb="deleted"
    )
    if not gc.keep_registrations:
        remove(record, config_centre, app=app, events=events)
    backend.delete(control_ref(app, namespace), wait=False)
    store.delete()
    last = record["revisions"][-1] if record["revisions"] else None
    return _deleted(backend, app, namespace, last, deleted, f"deleted {len(deleted)} object(s)")


def _deleted(
    backend: Backend,
    app: str,
    namespace: str,
    last: Mapping[str, Any] | None,
    deleted: list[str],
    message: str,
) -> RunResult:
    return RunResult(
        app=app,
        namespace=namespace,
        target=backend.description,
        revision=int((last or {}).get("number") or 0),
        hash=str((last or {}).get("hash") or ""),
        phase="deleted",
        message=message,
        pruned=tuple(deleted),
    )
