"""The state record's parts are the JSON of what they hold, however the inventory changed
between saves: entries added, replaced whole, or marked (fields added at their end, which
a save encodes from the entry's earlier JSON instead of whole)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from pyvela._core.objects import ObjectRef
from pyvela._workflow.inventory import Inventory
from pyvela._workflow.record import CHUNK, Layout, dumps


def _manifest(i: int, rnd: random.Random) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"w-{i}", "namespace": "default", "labels": {"é": "ü", "n": str(i)}},
        "spec": {"replicas": rnd.randint(0, 3), "x": [1.5, None, True, {"a": "\u2028"}]},
    }


@pytest.mark.parametrize("seed", range(8))
def test_every_saved_part_is_the_json_of_its_entries(seed: int) -> None:
    rnd = random.Random(seed)
    inventory = Inventory()
    rev: dict[str, Any] = {"number": 1, "inventory": inventory.to_data()}
    record: dict[str, Any] = {"app": "a", "revisions": [rev]}
    layout = Layout()
    stored: dict[str, bytes] = {}
    refs: list[ObjectRef] = []
    for _ in range(40):
        for _ in range(rnd.randint(0, 3 * CHUNK // 4)):
            roll = rnd.random()
            if not refs or roll < 0.5:
                ref = ObjectRef("apps/v1", "Deployment", "default", f"w-{len(refs)}")
                refs.append(ref)
                inventory.add(ref, component=f"c{len(refs)}", trait=None, manifest=_manifest(len(refs), rnd))
            elif roll < 0.8:  # turned healthy: a field added (or, again, replaced)
                inventory.mark(rnd.choice(refs), healthy={"digest": rnd.random(), "w": {"k": [1]}})
            elif roll < 0.9:
                inventory.mark(rnd.choice(refs), **{f"f{rnd.randint(0, 2)}": rnd.randint(0, 9)})
            else:  # applied again: replaced whole
                ref = rnd.choice(refs)
                inventory.add(ref, component="again", trait="t", manifest=_manifest(rnd.randint(0, 9), rnd))
        layout.index(record, [])
        stored.update(layout.new)
        layout.saved()
    entries = inventory.to_data()
    chunks = [entries[i : i + CHUNK] for i in range(0, len(entries), CHUNK)]
    assert len(chunks) > 3
    for i, chunk in enumerate(chunks):
        assert stored[f"1.inventory.{i}"] == dumps(list(chunk)), i
