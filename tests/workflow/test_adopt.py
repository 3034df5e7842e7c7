"""``pyvela adopt APP --from-kubevela`` on the sandbox: objects KubeVela's ResourceTrackers list
are taken over in place, and the next deploy updates them and prunes the rest."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from kubevela_world import TRACKER_CRD, app_module, plant

from pyvela._backends.sandbox import Sandbox
from pyvela._cli.main import main
from pyvela._core.objects import ObjectRef
from pyvela._workflow.adopt import adopt, managed_resources, plan
from pyvela._workflow.state import StateStore
from pyvela.errors import OwnershipError, StateError

NS = "shop"
WEB = ObjectRef("apps/v1", "Deployment", NS, "web")
OLD = ObjectRef("v1", "ConfigMap", NS, "old-cfg")


@pytest.fixture
def world(sandbox_dir: Path) -> Sandbox:
    sb = Sandbox(sandbox_dir)
    sb.apply(TRACKER_CRD)
    return sb


def test_dry_run_lists_the_newest_generation_and_changes_nothing(
    world: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    plant(world, "store", NS)
    before = _what_adopt_writes(world.get(WEB))
    assert main(["adopt", "store", "--from-kubevela", "-n", NS, "--dry-run", "-o", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["trackers"] == ["store-shop", "store-v2-shop"]
    assert [o["object"]["name"] for o in out["objects"]] == [
        "web",
        "web-cfg",
        "old-cfg",
    ]  # not the deleted one
    assert _what_adopt_writes(world.get(WEB)) == before
    assert StateStore(world, "store", NS).load() is None


def _what_adopt_writes(obj: object) -> object:
    # The simulated deployment controller settles the status (and its resourceVersion) while
    # the test runs, sooner or later with the machine's load: compare what adopt itself writes.
    assert isinstance(obj, dict)
    meta = obj["metadata"]
    return (meta.get("labels"), meta.get("annotations"), meta.get("ownerReferences"), obj["spec"])


def test_adopt_then_deploy_updates_in_place_and_prunes(
    world: Sandbox, write_app: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    plant(world, "store", NS)
    uid = world.get(WEB)["metadata"]["uid"]  # type: ignore[index]
    assert main(["adopt", "store", "--from-kubevela", "-n", NS]) == 0
    assert "adopted app 'store'" in capsys.readouterr().out
    web = world.get(WEB)
    assert web is not None
    labels = web["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "pyvela"
    assert labels["app.oam.dev/appRevision"] == "store-v1"  # KubeVela's labels stay
    record = StateStore(world, "store", NS).load()
    assert record is not None
    [rev] = record["revisions"]
    assert (rev["kind"], rev["phase"], len(rev["inventory"])) == ("adopt", "succeeded", 3)

    app = write_app(app_module("store", NS, "nginx:1.27"), "store.py")
    assert main(["deploy", str(app), "--defs", "pyvela.stdlib"]) == 0
    web = world.get(WEB)
    assert web is not None
    assert web["metadata"]["uid"] == uid  # updated in place, never recreated
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert world.get(OLD) is None  # KubeVela applied it, the Python app does not render it: pruned
    assert main(["history", str(app), "--defs", "pyvela.stdlib", "-o", "json"]) == 0


def test_adopt_is_idempotent_and_refuses_an_app_pyvela_deploys(
    world: Sandbox, write_app: Callable[[str, str], Path]
) -> None:
    plant(world, "store", NS, gzipped=False)
    adopt(world, "store", NS)
    again = adopt(world, "store", NS)  # a re-run (say after a kill) finishes, changes nothing
    assert {t.state for t in again.objects} == {"already"}
    app = write_app(app_module("store", NS, "nginx:1.27"), "store.py")
    assert main(["deploy", str(app), "--defs", "pyvela.stdlib"]) == 0
    with pytest.raises(StateError, match="already deployed by pyvela"):
        adopt(world, "store", NS)


def test_objects_of_another_app_are_refused_and_nothing_changes(world: Sandbox) -> None:
    plant(world, "store", NS, foreign=True)
    with pytest.raises(OwnershipError, match=r"ConfigMap shop/old-cfg is owned by app shop/someone-else"):
        adopt(world, "store", NS)
    assert "app.kubernetes.io/managed-by" not in world.get(WEB)["metadata"]["labels"]  # type: ignore[index]
    assert StateStore(world, "store", NS).load() is None


def test_clear_errors_without_kubevela_or_without_trackers(
    sandbox_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = Sandbox(sandbox_dir)
    with pytest.raises(StateError, match=r"resourcetrackers\.core\.oam\.dev is not installed"):
        plan(sb, "store", NS)
    sb.apply(TRACKER_CRD)
    assert main(["adopt", "store", "--from-kubevela", "-n", NS]) == 1
    err = capsys.readouterr().err
    assert "no KubeVela ResourceTracker for app 'store' in namespace 'shop'" in err and "Traceback" not in err
    assert main(["adopt", "store", "-n", NS]) == 1
    assert "--from-kubevela" in capsys.readouterr().err


def test_compressed_trackers_are_read_and_bad_data_is_one_error() -> None:
    from kubevela_world import tracker

    rt = tracker("a", "b", "versioned", [{"kind": "ConfigMap", "name": "x"}], gzipped=True)
    assert managed_resources(rt) == [{"kind": "ConfigMap", "name": "x"}]
    import base64

    import zstandard

    raw = zstandard.ZstdCompressor().compress(b'[{"kind": "Secret", "name": "z"}]')
    zrt = {
        "metadata": {"name": "z"},
        "spec": {"compression": {"type": "zstd", "data": base64.b64encode(raw).decode()}},
    }
    assert managed_resources(zrt) == [{"kind": "Secret", "name": "z"}]
    rt["spec"]["compression"]["data"] = "not base64!"
    with pytest.raises(StateError, match="compressed managedResources cannot be read"):
        managed_resources(rt)
    rt["spec"]["compression"] = {"type": "lz4", "data": ""}
    with pytest.raises(StateError, match="compressed with 'lz4'"):
        managed_resources(rt)
