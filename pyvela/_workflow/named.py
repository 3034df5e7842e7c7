"""Operations on an app named by its state record alone (``pyvela delete APP`` without the file).

The record holds what reading and removing an app need: every revision's inventory, the
objects kept by its garbage-collect rules, what it registered in the config centre, and
its app spec (the policies' parameters as data). Deploying, resuming and restarting run
the steps' code, which only the app's source has (``NEEDS_SOURCE``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from pyvela._backends.protocol import Backend
from pyvela._configcentre.protocol import ConfigCentre
from pyvela._core.objects import ObjectRef
from pyvela._core.policies_builtin import GarbageCollectParams
from pyvela._workflow.events import EventSink
from pyvela._workflow.gc import collect, delete_plan
from pyvela._workflow.registrations import remove
from pyvela._workflow.results import RunResult
from pyvela._workflow.state import AppLock, StateStore, control_ref
from pyvela.errors import StateError

#: Why a command cannot run from the record alone, by command.
NEEDS_SOURCE = {
    "deploy": "a deploy renders the components and runs the steps, whose code is in the app's source",
    "resume": "resuming runs the remaining steps, whose code is in the app's source",
    "restart": "restarting runs the steps again, whose code is in the app's source",
    "rollback": "a rollback re-applies through the app's resource policies (take-over, read-only, "
    "apply-once...) and config-centre settings, which the app's module defines",
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
