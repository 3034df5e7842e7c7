"""Issue 18, fifth round: what a wide deploy no longer does twice, and what it still must.

A component's render is handed to the inventory (no copy: nothing changes it after its
apply), while an object a step passes to ``ctx.apply`` is still copied (the step's code may
go on changing its dict)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyvela._core.objects import ObjectRef
from pyvela._workflow.inventory import Inventory
from pyvela._workflow.state import StateStore
from tests.runner_helpers import ops_for, sandbox

REF = ObjectRef("v1", "ConfigMap", "default", "c")


def test_an_owned_manifest_is_kept_as_it_is_and_any_other_copied() -> None:
    inventory = Inventory()
    handed: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"a": "1"},
    }
    inventory.add(REF, component="x", trait=None, manifest=handed, owned=True)
    entry = inventory.get(REF)
    assert entry is not None and entry["manifest"] is handed
    lent: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"a": "1"},
    }
    inventory.add(REF, component="x", trait=None, manifest=lent)
    lent["data"]["a"] = "changed by the caller afterwards"
    entry = inventory.get(REF)
    assert entry is not None and entry["manifest"]["data"] == {"a": "1"}


STEP_THAT_REUSES_ITS_DICT = """
from tests.scale_defs import reuse_dict
from pyvela import Application, Workflow

app = Application("reuse", components=[], workflow=Workflow(steps=[reuse_dict("s")], mode="DAG"))
"""


def test_a_step_that_changes_its_dict_after_applying_it_leaves_the_record_as_applied(
    write_app: Any, tmp_path: Path
) -> None:
    path = write_app(STEP_THAT_REUSES_ITS_DICT)
    box = sandbox(tmp_path / "box", delay=0.0)
    try:
        result = ops_for(path, box, defs=["tests.scale_defs"]).deploy()
        assert result.ok, result.message
        record = StateStore(box, "reuse", "default").load()
        assert record is not None
        manifests = {e["ref"]["name"]: e["manifest"] for e in record["revisions"][-1]["inventory"]}
        assert manifests["first"]["data"] == {"k": "1"}
        assert manifests["second"]["data"] == {"k": "2"}
    finally:
        box.close()


def test_each_component_is_recorded_as_applied(tmp_path: Path) -> None:
    from tests.workflow.test_scale_mechanisms import _seed_ops

    box = sandbox(tmp_path, delay=0.0)
    try:
        result = _seed_ops(box, 4).deploy()
        assert result.ok, result.message
        record = StateStore(box, "seed-scale", "default").load()
        assert record is not None
        inventory = record["revisions"][-1]["inventory"]
        assert len(inventory) == 12
        for entry in inventory:
            ref = ObjectRef.from_dict(entry["ref"])
            live = box.get(ref)
            assert live is not None
            # What was applied: the app's labels on it, and the cluster's own fields not.
            assert entry["manifest"]["metadata"]["labels"]["app.oam.dev/name"] == "seed-scale"
            assert "uid" not in entry["manifest"]["metadata"] and "status" not in entry["manifest"]
            if ref.kind == "Deployment":
                container = entry["manifest"]["spec"]["template"]["spec"]["containers"][0]
                assert container["image"] == f"registry.example/svc:{ref.name.removeprefix('svc-')}"
    finally:
        box.close()


def test_a_deploy_does_not_import_the_mail_client_until_a_step_sends_mail() -> None:
    import subprocess
    import sys

    mail = "{'smtplib', 'ssl', 'email.message'}"
    code = f"import sys, pyvela._cli.run; print(sorted({mail} & sys.modules.keys()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
