"""What an app's revisions registered in the configuration centre, and restoring it on rollback.

A ``RegisterConfig`` result in a step's journal records the target and the items the step
registered, so a rollback can publish the rolled-back-to revision's items again (the
objects come back from the inventory; the registrations from here). Registering is
idempotent: a target that already holds the items is left alone, so a re-run rollback
repeats nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pyvela._configcentre.protocol import ConfigCentre, ConfigTarget
from pyvela._workflow.events import Event, EventSink


def registrations(rev: Mapping[str, Any]) -> list[tuple[str, ConfigTarget, dict[str, str]]]:
    """``(step, target, items)`` of every registration recorded in ``rev``'s step journals."""
    out = []
    for name, st in (rev.get("steps") or {}).items():
        for entry in st.get("journal") or []:
            result = entry.get("result")
            if isinstance(result, dict) and isinstance(result.get("target"), dict) and "registered" in result:
                out.append((name, ConfigTarget(**result["target"]), dict(result["registered"])))
    return out


def restore(
    target_rev: Mapping[str, Any],
    centre: Callable[[], ConfigCentre],
    *,
    app: str,
    events: EventSink,
) -> list[dict[str, Any]]:
    """Publish ``target_rev``'s registrations again; one result per registration."""
    found = registrations(target_rev)
    if not found:
        return []
    done = []
    opened = centre()
    try:
        for step, target, items in found:
            release = opened.register(
                target,
                items,
                release_title=f"{app} rollback to revision {target_rev['number']}",
                comment=f"pyvela {app} rollback: registration of step {step}",
            )
            state = "published " + release.release_key if release.changed else "already published"
            events.emit(
                Event(
                    kind="log",
                    message=f"restored {len(items)} item(s) of step {step} in {target} ({state})",
                    data={"target": str(target), "changed": release.changed},
                )
            )
            done.append({"step": step, "target": str(target), "changed": release.changed})
    finally:
        opened.close()
    return done


def remove(
    record: Mapping[str, Any],
    centre: Callable[[], ConfigCentre],
    *,
    app: str,
    events: EventSink,
) -> list[dict[str, Any]]:
    """Unpublish every key any revision of the app registered (``pyvela delete``).

    Idempotent: a target that no longer holds the keys is left alone, so a delete killed
    halfway and run again (its record is removed last) finishes the job.
    """
    keys: dict[ConfigTarget, set[str]] = {}
    for rev in record.get("revisions") or []:
        for _step, target, items in registrations(rev):
            keys.setdefault(target, set()).update(items)
    if not keys:
        return []
    done = []
    opened = centre()
    try:
        for target, names in keys.items():
            release = opened.unregister(
                target, sorted(names), release_title=f"{app} deleted", comment=f"pyvela delete {app}"
            )
            state = "published " + release.release_key if release.changed else "already gone"
            events.emit(
                Event(
                    kind="deleted",
                    message=f"removed {len(names)} registered item(s) from {target} ({state})",
                    data={"target": str(target), "changed": release.changed},
                )
            )
            done.append({"target": str(target), "keys": sorted(names), "changed": release.changed})
    finally:
        opened.close()
    return done
