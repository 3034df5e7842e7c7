"""State records of the seed's shape at scale, for the tests of the record's size and layout."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pyvela._app.loader import load_app
from pyvela._app.render import render_app
from pyvela._core.objects import ObjectRef
from pyvela._workflow.revisions import new_revision
from pyvela._workflow.state import new_record

ROOT = Path(__file__).resolve().parent.parent
SEED_BENCH = ROOT / "benchmarks" / "apps" / "seed_1000.py"
APP = "seed-scale"
#: What the API server accepts in one object (Secret data is limited to 1 MiB; etcd's request to 1.5).
LIMIT = 1024 * 1024


def seed_record(n: int, revisions: int, namespace: str = "default") -> dict[str, Any]:
    """A record of ``revisions`` succeeded deploys of ``n`` seed-shaped components.

    Each revision's manifests differ (a per-revision annotation on every object), as when
    every deploy changes the image: nothing is shared between revisions by chance.
    """
    before = os.environ.get("PYVELA_BENCH_N")
    os.environ["PYVELA_BENCH_N"] = str(n)
    try:
        loaded = load_app(SEED_BENCH, defs=["platform_defs"])
    finally:
        if before is None:
            del os.environ["PYVELA_BENCH_N"]
        else:
            os.environ["PYVELA_BENCH_N"] = before
    objects = [(rc.name, o) for rc in render_app(loaded.app, revision=loaded.revision) for o in rc.objects]
    record = new_record(APP, namespace)
    first = new_revision(record, loaded)
    for number in range(1, revisions + 1):
        rev = first if number == 1 else {**first, "number": number, "hash": f"{number:016x}"}
        rev["phase"], rev["finished"] = "succeeded", rev["started"]
        rev["steps"] = {
            name: {**state, "phase": "succeeded", "started": rev["started"], "finished": rev["started"]}
            for name, state in first["steps"].items()
        }
        rev["inventory"] = [
            {
                "ref": ObjectRef.of(o.object).to_dict(),
                "component": component,
                "trait": o.trait,
                "manifest": {
                    **o.object,
                    "metadata": {**o.object["metadata"], "annotations": {"example/revision": str(number)}},
                },
                "step": component,
            }
            for component, o in objects
        ]
        if number > 1:
            record["revisions"].append(rev)
    return record
