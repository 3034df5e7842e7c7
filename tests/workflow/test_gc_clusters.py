"""The garbage collector's bookkeeping keyed by cluster: the same object on two clusters is
two objects; a prune removes only what a cluster no longer has; a delete covers all."""

from __future__ import annotations

from typing import Any

from pyvela._core.objects import ObjectRef
from pyvela._core.policies_builtin import GarbageCollectParams
from pyvela._workflow.gc import delete_plan, namespace_entries, prune_plan
from pyvela._workflow.inventory import Inventory

WEB = ObjectRef("apps/v1", "Deployment", "shop", "web")
NS = ObjectRef("v1", "Namespace", "", "shop")


def entry(ref: ObjectRef, cluster: str | None) -> dict[str, Any]:
    e: dict[str, Any] = {"ref": ref.to_dict(), "component": "web", "trait": None, "manifest": {}}
    if cluster is not None:
        e["cluster"] = cluster
    return e


def rev(number: int, phase: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"number": number, "phase": phase, "inventory": list(entries), "planned": [], "spec": {}}


def test_the_same_object_on_two_clusters_is_two_entries() -> None:
    inv = Inventory()
    inv.on("bj").add(WEB, component="web", trait=None, manifest={"a": 1})
    inv.on("sh").add(WEB, component="web", trait=None, manifest={"a": 2})
    inv.add(WEB, component="web", trait=None, manifest={"a": 3})
    assert [e.get("cluster") for e in inv.to_data()] == ["bj", "sh", None]
    assert inv.on("sh").get(WEB)["manifest"] == {"a": 2}  # type: ignore[index]
    inv.on("bj").mark(WEB, healthy={"digest": "x"})
    assert inv.on("bj").get(WEB)["healthy"] == {"digest": "x"}  # type: ignore[index]
    assert "healthy" not in (inv.get(WEB) or {})
    again = Inventory(inv.to_data())  # as the record reads it back
    assert again.on("sh").get(WEB) is not None and again.on("gz").get(WEB) is None


def test_a_prune_removes_only_what_a_cluster_no_longer_has_and_a_delete_covers_all() -> None:
    first = rev(1, "succeeded", entry(NS, "bj"), entry(WEB, "bj"), entry(NS, "sh"), entry(WEB, "sh"))
    second = rev(2, "succeeded", entry(NS, "bj"), entry(WEB, "bj"))
    record: dict[str, Any] = {"revisions": [first, second]}
    delete, kept = prune_plan(record, second, GarbageCollectParams())
    assert [(d.cluster, d.ref) for d in delete] == [("sh", WEB), ("sh", NS)] and kept == []
    assert delete[0].shown == "Deployment shop/web (cluster sh)"
    everything = delete_plan(record, GarbageCollectParams())
    assert {(d.cluster, d.ref) for d in everything} == {("bj", WEB), ("sh", WEB), ("bj", NS), ("sh", NS)}
    assert namespace_entries(record) == [
        {"ref": NS.to_dict(), "cluster": "bj"},
        {"ref": NS.to_dict(), "cluster": "sh"},
    ]
    kept_all = prune_plan(
        {"revisions": [first, second]}, second, GarbageCollectParams(keep_legacy_resource=True)
    )
    assert kept_all[0] == [] and {(d.cluster, d.ref) for d in kept_all[1]} == {("sh", WEB), ("sh", NS)}
