"""``--shard N/M``: the stable hash (every app in exactly one shard, the same in every
process, roughly balanced), the label pin, the per-shard names; the leader Lease's state
machine on the sandbox (a real Backend: acquire, stand by, take over a crashed holder after
the lease duration, a released one at once, lose to another writer, stop leading at the
renew deadline, never two leaders); the gate that keeps a reconcile from starting after
the Lease is lost; the install manifests with shards and replicas (a golden file)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._app.output import to_yaml
from pyvela._backends.sandbox import Sandbox
from pyvela._controller.crd import FINALIZER
from pyvela._controller.leader import LeaderElector
from pyvela._controller.manifests import DEFAULT_KINDS, manifests
from pyvela._controller.operator import Controller
from pyvela._controller.shard import Shard, parse_shard, shard_of, stale_finalizers
from pyvela._controller.sharded import NotLeading
from pyvela._core.objects import ObjectRef
from pyvela.errors import PyvelaError
from tests.conftest import ROOT

GOLDEN = Path(__file__).parent / "golden" / "manifests-shards.yaml"
names = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)


def _app(namespace: str, name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"namespace": namespace, "name": name, "labels": labels}}


# ---------------------------------------------------------------------- the assignment


def test_the_hash_is_sha256_of_namespace_slash_name() -> None:
    # Pinned values: a change of the hash would move apps between shards on an upgrade.
    assert [shard_of("team-a", "lixiang-app", m) for m in (1, 2, 3, 7)] == [0, 0, 0, 2]
    assert shard_of("team-a", "web", 1000) == 971


def test_the_hash_is_the_same_in_every_process() -> None:
    imports = "from pyvela._controller.shard import shard_of as s"
    code = f"{imports}; print([s('ns', f'a{{i}}', 5) for i in range(50)])"
    seen = set()
    for seed in ("1", "2", "random"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        seen.add(out)
    assert seen == {str([shard_of("ns", f"a{i}", 5) for i in range(50)]) + "\n"}


@settings(max_examples=200, deadline=None)
@given(namespace=names, name=names, count=st.integers(1, 64))
def test_every_app_is_in_exactly_one_shard(namespace: str, name: str, count: int) -> None:
    body = _app(namespace, name)
    owners = [i for i in range(count) if Shard(index=i, count=count).owns(body)]
    assert owners == [shard_of(namespace, name, count)]
    assert owners == [Shard(index=0, count=count).shard_for(body)]  # stable: asked again


@pytest.mark.parametrize("count", [2, 3, 5, 8])
def test_shards_are_roughly_balanced(count: int) -> None:
    apps = [(f"team-{t}", f"svc-{i}") for t in range(10) for i in range(300)]
    sizes = [0] * count
    for namespace, name in apps:
        sizes[shard_of(namespace, name, count)] += 1
    mean = len(apps) / count
    assert all(abs(size - mean) < 0.1 * mean for size in sizes), sizes


def test_a_label_pins_an_app_to_a_shard() -> None:
    two = parse_shard("1/2")
    home = shard_of("ns", "web", 2)
    assert two.shard_for(_app("ns", "web", **{"pyvela.dev/shard": str(1 - home)})) == 1 - home
    # Not a shard of 2: the hash decides (the app is never left to nobody).
    assert two.shard_for(_app("ns", "web", **{"pyvela.dev/shard": "7"})) == home
    assert two.shard_for(_app("ns", "web", **{"pyvela.dev/shard": "one"})) == home
    custom = parse_shard("0/2", "team.example/shard")
    assert custom.shard_for(_app("ns", "web", **{"team.example/shard": "1"})) == 1
    assert custom.shard_for(_app("ns", "web", **{"pyvela.dev/shard": str(1 - home)})) == home


def test_parse_and_names() -> None:
    s = parse_shard("2/3")
    assert (s.index, s.count) == (2, 3)
    assert s.lease_name == "pyvela-controller-shard-2-of-3"
    assert s.finalizer == "pyvela.dev/shard-2-of-3"
    assert parse_shard("0/1").finalizer == FINALIZER  # one shard: the unsharded controller's
    for bad in ("3/3", "1/0", "-1/2", "a/b", "2", "1/2/3", ""):
        with pytest.raises(PyvelaError):
            parse_shard(bad)


def test_stale_finalizers_are_only_other_pyvela_layouts() -> None:
    body = {
        "metadata": {"finalizers": [FINALIZER, "pyvela.dev/shard-1-of-3", "pyvela.dev/shard-0-of-2", "x/y"]}
    }
    assert stale_finalizers(body, "pyvela.dev/shard-0-of-2") == [FINALIZER, "pyvela.dev/shard-1-of-3"]
    assert stale_finalizers(body, FINALIZER) == ["pyvela.dev/shard-1-of-3", "pyvela.dev/shard-0-of-2"]
    # Another shard of the same layout lets a relabelled app go by itself: not stale.
    moved = {"metadata": {"finalizers": ["pyvela.dev/shard-1-of-2"]}}
    assert stale_finalizers(moved, "pyvela.dev/shard-0-of-2") == []


def test_bad_shard_arguments_are_one_message() -> None:
    for argv in (["--shard", "2/2"], ["--shard", "x"], ["--shard-label", "k"]):
        run = subprocess.run(
            [sys.executable, "-m", "pyvela", "controller", "--kubeconfig", "/nonexistent", *argv],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr
        assert "--shard" in run.stderr


# ---------------------------------------------------------------------- the leader Lease

LEASE = ObjectRef("coordination.k8s.io/v1", "Lease", "ctl", "pyvela-controller-shard-0-of-1")


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    sandbox = Sandbox(tmp_path / "sandbox")
    sandbox.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": LEASE.namespace}})
    return sandbox


def _elector(box: Sandbox, holder: str, duration: float = 3.0, **kw: Any) -> LeaderElector:
    return LeaderElector(box, LEASE.name, LEASE.namespace, duration=duration, holder=holder, **kw)


def _holder(box: Sandbox) -> str:
    return str(((box.get(LEASE) or {}).get("spec") or {}).get("holderIdentity") or "")


def test_one_leads_the_other_stands_by(box: Sandbox) -> None:
    a, b = _elector(box, "pod-a:1:x"), _elector(box, "pod-b:2:y")
    a.step()
    b.step()
    assert a.is_leading() and not b.is_leading()
    assert _holder(box) == "pod-a:1:x"
    a.step()  # a renewal
    b.step()
    assert a.is_leading() and not b.is_leading()
    spec = (box.get(LEASE) or {})["spec"]
    assert spec["leaseDurationSeconds"] == 3 and spec["leaseTransitions"] == 0


def test_a_crashed_holder_is_taken_over_after_the_lease_duration(box: Sandbox) -> None:
    a, b = _elector(box, "pod-a:1:x", duration=1.0), _elector(box, "pod-b:2:y", duration=1.0)
    a.step()  # a leads, then dies without giving the Lease up
    b.step()
    seen = time.monotonic()
    while not b.is_leading():
        assert time.monotonic() - seen < 5, "no takeover"
        time.sleep(0.05)
        b.step()
    waited = time.monotonic() - seen
    assert 1.0 <= waited < 1.5, waited  # not before the duration (by b's own clock), soon after
    assert _holder(box) == "pod-b:2:y"
    assert (box.get(LEASE) or {})["spec"]["leaseTransitions"] == 1
    a.step()  # a comes back (a paused process): its renewal conflicts, it follows
    assert not a.is_leading()


def test_a_released_lease_is_taken_at_once(box: Sandbox) -> None:
    a, b = _elector(box, "pod-a:1:x", duration=30), _elector(box, "pod-b:2:y", duration=30)
    a.step()
    b.step()
    a.stop(release=True)
    assert not a.is_leading() and _holder(box) == ""
    b.step()
    assert b.is_leading()


def test_a_dead_process_on_this_host_holds_nothing(box: Sandbox) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = _elector(box, f"{socket.gethostname()}:{gone.pid}:x", duration=30)
    dead.step()
    b = _elector(box, "pod-b:2:y", duration=30)
    b.step()
    assert b.is_leading()


def test_the_holder_leads_again_after_an_outage(box: Sandbox) -> None:
    a = _elector(box, "pod-a:1:x", duration=30)
    a.step()
    again = _elector(box, "pod-a:1:x", duration=30)  # the same identity, its state forgotten
    again.step()
    assert again.is_leading()


def test_another_writer_takes_the_lease_and_the_holder_stops_at_once(box: Sandbox) -> None:
    a = _elector(box, "pod-a:1:x")
    a.step()
    live = box.get(LEASE)
    assert live is not None
    live["spec"]["holderIdentity"] = "pod-z:9:z"
    box.replace(live)
    a.step()
    assert not a.is_leading()


def test_no_renewal_within_the_deadline_stops_leading_without_asking_the_server(box: Sandbox) -> None:
    a = _elector(box, "pod-a:1:x", duration=0.6, renew=0.1)
    a.step()
    assert a.is_leading()
    time.sleep(0.45)  # past 2/3 of the duration: a standby may take it soon, so a must not lead
    assert not a.is_leading()


def test_never_two_leaders(box: Sandbox) -> None:
    """Three replicas on threads; the leader crashes (stops, the Lease kept) again and again:
    at every sample at most one leads, and the shard is led again each time."""
    electors = [_elector(box, f"pod-{i}:{i}:n", duration=0.6) for i in range(3)]
    for e in electors:
        e.start()
    takeovers = 0
    try:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and takeovers < 3:
            leading = [e for e in electors if e.is_leading()]
            assert len(leading) <= 1, [e.identity for e in leading]
            if leading:
                leading[0].stop(release=False)  # a crash: no release
                electors.remove(leading[0])
                electors.append(_elector(box, f"pod-new{takeovers}:9:n", duration=0.6))
                electors[-1].start()
                takeovers += 1
            time.sleep(0.01)
        assert takeovers == 3
    finally:
        for e in electors:
            e.stop(release=False)


def test_on_change_tells_each_transition(box: Sandbox) -> None:
    changes: list[bool] = []
    a = _elector(box, "pod-a:1:x", on_change=changes.append)
    a.step()
    a.step()
    a.stop(release=True)
    assert changes == [True, False]


def test_the_renew_period_must_be_within_the_duration(box: Sandbox) -> None:
    with pytest.raises(PyvelaError, match="renewed well within"):
        _elector(box, "a:1:x", duration=3, renew=2.5)


# ---------------------------------------------------------------------- the gate


def test_no_reconcile_starts_once_the_lease_is_lost() -> None:
    leading = threading.Event()
    leading.set()
    controller = Controller(None, workers=1, gate=leading.is_set)  # type: ignore[arg-type]
    calls: list[int] = []

    def first() -> str:
        calls.append(1)
        return "ran"

    async def go() -> None:
        assert await controller._blocking(first, gated=True) == "ran"
        leading.clear()
        with pytest.raises(NotLeading):
            await controller._blocking(lambda: calls.append(2), gated=True)
        await controller._blocking(lambda: calls.append(3))  # a status write is not a reconcile

    asyncio.run(go())
    assert calls == [1, 3]


# ---------------------------------------------------------------------- the manifests


def _deployments(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == "Deployment"]


def test_sharded_manifests_match_the_golden_file() -> None:
    text = to_yaml(_deployments(manifests(kinds=sorted(DEFAULT_KINDS), shards=2, replicas=2)))
    if os.environ.get("PYVELA_UPDATE_GOLDEN") == "1":  # pragma: no cover - by hand, then review
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "manifests changed: PYVELA_UPDATE_GOLDEN=1 pytest this file, review"


def test_one_deployment_per_shard_each_with_its_shard() -> None:
    deployments = _deployments(manifests(kinds=DEFAULT_KINDS, namespace="ops", shards=3, replicas=2))
    assert [d["metadata"]["name"] for d in deployments] == [
        f"pyvela-controller-shard-{i}-of-3" for i in range(3)
    ]
    selectors = set()
    for i, d in enumerate(deployments):
        args = d["spec"]["template"]["spec"]["containers"][0]["args"]
        assert args[args.index("--shard") + 1] == f"{i}/3"
        assert args[args.index("--lease-namespace") + 1] == "ops"
        assert d["spec"]["replicas"] == 2
        selector = d["spec"]["selector"]["matchLabels"]
        assert selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        selectors.add(yaml.safe_dump(selector))
    assert len(selectors) == 3  # no Deployment adopts another's pods
    one = _deployments(manifests(kinds=DEFAULT_KINDS, replicas=3))
    assert [d["metadata"]["name"] for d in one] == ["pyvela-controller"]
    assert "0/1" in one[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    with pytest.raises(PyvelaError):
        manifests(kinds=DEFAULT_KINDS, shards=0)


def test_the_finalizers_of_an_earlier_layout_are_removed(box: Sandbox) -> None:
    from pyvela._controller.crd import API_VERSION, KIND, crd
    from pyvela._controller.sharded import drop_stale_finalizers

    box.apply(crd())
    ref = ObjectRef(API_VERSION, KIND, LEASE.namespace, "web")
    own = "pyvela.dev/shard-1-of-2"
    created = box.create(
        {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {
                "name": "web",
                "namespace": LEASE.namespace,
                "finalizers": [FINALIZER, own, "example.org/keep"],
            },
            "spec": {"module": "apps.web"},
        }
    )
    drop_stale_finalizers(box, created, own)
    live = box.get(ref)
    assert live is not None and live["metadata"]["finalizers"] == [own, "example.org/keep"]
    drop_stale_finalizers(box, created, own)  # an outdated body: refused by its resourceVersion, no harm
    live = box.get(ref)
    assert live is not None and live["metadata"]["finalizers"] == [own, "example.org/keep"]
