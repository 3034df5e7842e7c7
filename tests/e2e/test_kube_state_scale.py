"""The state record of a 3,000-component app with 10 revisions, on the real API server:
written through the Kubernetes backend's StateStore, read back whole, updated by a save
that writes only what changed; the same record as one Secret is refused by the server."""

from __future__ import annotations

import base64
import gzip
import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support

from pyvela._backends.kube.backend import KubeBackend
from pyvela._workflow.state import StateStore, encode, state_ref
from pyvela.errors import PyvelaError
from tests.state_records import APP, LIMIT, seed_record

kube, namespace = support.kube, support.namespace  # fixtures


def test_a_3000_component_record_with_10_revisions_on_the_api_server(
    kube: KubeBackend, namespace: str
) -> None:
    record = seed_record(3000, 10, namespace)
    store = StateStore(kube, APP, namespace)
    start = time.monotonic()
    store.save(record)
    wrote = time.monotonic() - start
    stored = kube.list("v1", "Secret", namespace, {"pyvela.dev/state-of": APP})
    assert stored and max(len(json.dumps(o)) for o in stored) < LIMIT // 4
    again = StateStore(kube, APP, namespace)
    assert again.load() == record
    # A step of the latest revision finishes: one part and the index are written, nothing else.
    latest = record["revisions"][-1]
    name = next(iter(latest["steps"]))
    latest["steps"][name]["message"] = "done again"
    before = again.writes
    again.save(record, [name])
    assert again.writes - before == 2
    assert StateStore(kube, APP, namespace).load() == record
    # The record as one Secret (the earlier format) is more than the API server takes.
    whole = encode(dict(record, format=1), APP, state_ref(APP + "-whole", namespace))
    whole["data"]["state"] = base64.b64encode(gzip.compress(json.dumps(record).encode(), 1)).decode()
    assert len(whole["data"]["state"]) > LIMIT
    with pytest.raises(PyvelaError):
        kube.create(whole)
    again.delete()
    assert kube.list("v1", "Secret", namespace, {"pyvela.dev/state-of": APP}) == []
    print(f"wrote {len(stored)} objects in {wrote:.1f}s")
