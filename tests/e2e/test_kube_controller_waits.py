"""`pyvela controller` on the real control plane: the waits other than readiness park too.

- ``depends-on-app`` and a delete: app ``front`` POSTs (journaled), then waits for app
  ``base``, which itself waits for a ConfigMap the test creates later; then POSTs again and
  deletes a ConfigMap a finalizer holds. Its reconcile returns with ``front`` waiting for
  base; once base succeeds, base's record's watch event resumes front, which parks on the
  delete; the finalizer removed, the object's DELETED event resumes it and it succeeds. Each
  POST was made once.
- a timed ``suspend``: app ``nap`` POSTs, then suspends for 8 s: its reconcile returns with
  the app waiting (the status says until when), the requeue at the suspend's end resumes it
  (not the 5-10-20 s doubling), and it succeeds with the POST made once.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_controller_park as park
import test_kube_support as support

from pyvela._backends.kube.backend import KubeBackend
from pyvela._controller.crd import API_VERSION, KIND
from pyvela._core.objects import LABEL_APP, LABEL_MANAGED_BY, MANAGER, ObjectRef

kube, controller, posts = support.kube, park.controller, park.posts  # fixtures
wait_for = park.wait_for
DEFS = ["platform_defs", "tests.sample_defs", "tests.waits_defs"]

BASE = """
from pyvela import Application
from tests.sample_defs import wait_for_configmap

app = Application("wbase", components=[], workflow=[wait_for_configmap("gate", name="go")])
"""
FRONT = """
from pyvela import Application
from tests.waits_defs import post_then_delete, post_then_wait_app

app = Application(
    "wfront",
    components=[],
    workflow=[
        post_then_wait_app("need", url="{url}?need", app="wbase"),
        post_then_delete("clean", url="{url}?clean", name="held").after("need"),
    ],
)
"""
NAP = """
from pyvela import Application
from tests.waits_defs import post_then_nap

app = Application("wnap", components=[], workflow=[post_then_nap("nap", url="{url}", seconds=8)])
"""


def _resource(kube: KubeBackend, namespace: str, name: str, module: str) -> ObjectRef:
    kube.create(
        {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"module": module, "defs": DEFS},
        }
    )
    return ObjectRef(API_VERSION, KIND, namespace, name)


def _status(kube: KubeBackend, ref: ObjectRef) -> dict[str, Any]:
    return dict((kube.get(ref) or {}).get("status") or {})


def _phase(kube: KubeBackend, ref: ObjectRef, phase: str) -> Any:
    st = _status(kube, ref)
    return st if st.get("phase") == phase else None


def test_depends_on_app_and_a_delete_park_and_resume_on_their_watch_events(
    controller: dict[str, Any], kube: KubeBackend, posts: tuple[list[str], str]
) -> None:
    namespace, log, mods = controller["namespace"], controller["log"], controller["mods"]
    got, hook = posts
    (mods / "ctl_wait_base.py").write_text(BASE)
    (mods / "ctl_wait_front.py").write_text(FRONT.format(url=hook))
    held = ObjectRef("v1", "ConfigMap", namespace, "held")
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "held",
                "namespace": namespace,
                "finalizers": ["example.com/hold"],
                # Watched (managed by pyvela) but of no app: only the waiters' map finds who waits.
                "labels": {LABEL_MANAGED_BY: MANAGER},
            },
        }
    )
    base = _resource(kube, namespace, "wbase", "ctl_wait_base")
    wait_for("base to wait", lambda: _phase(kube, base, "waiting"), 120, log)
    front = _resource(kube, namespace, "wfront", "ctl_wait_front")
    st = wait_for("front to wait for base", lambda: _phase(kube, front, "waiting"), 120, log)
    assert st["steps"]["need"]["phase"] == "waiting", st
    assert f"waiting for app {namespace}/wbase: revision 1 is waiting" in st["steps"]["need"]["message"]
    assert got == ['{"step":"need"}'], got

    # Base succeeds: its record's save is what wakes front (no requeue of front is due so soon
    # after its last one: it doubled to 10 s and more while both waited).
    time.sleep(12)
    labels = {LABEL_APP: "wbase", LABEL_MANAGED_BY: MANAGER}
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "go", "namespace": namespace, "labels": labels},
        }
    )
    wait_for("base to succeed", lambda: _phase(kube, base, "succeeded"), 120, log)

    def on_delete() -> Any:
        st = _status(kube, front)
        clean = (st.get("steps") or {}).get("clean") or {}
        return st if clean.get("phase") == "waiting" else None

    st = wait_for("front to park on the delete", on_delete, 120, log)
    assert st["steps"]["need"]["phase"] == "succeeded", st
    assert f"waiting for ConfigMap {namespace}/held: it is being deleted" in st["steps"]["clean"]["message"]
    live = kube.get(held)
    assert live is not None and live["metadata"].get("deletionTimestamp"), live
    assert sorted(got) == ['{"step":"clean"}', '{"step":"need"}'], got

    kube.merge_patch(held, {"metadata": {"finalizers": None}})  # the object goes: DELETED wakes front
    done = wait_for("front to succeed", lambda: _phase(kube, front, "succeeded"), 120, log)
    assert done["steps"]["clean"]["phase"] == "succeeded", done
    assert sorted(got) == ['{"step":"clean"}', '{"step":"need"}'], got  # each POST once
    assert kube.get(held) is None


def test_a_timed_suspend_parks_and_its_end_resumes_it(
    controller: dict[str, Any], kube: KubeBackend, posts: tuple[list[str], str]
) -> None:
    namespace, log, mods = controller["namespace"], controller["log"], controller["mods"]
    got, hook = posts
    (mods / "ctl_wait_nap.py").write_text(NAP.format(url=hook))
    nap = _resource(kube, namespace, "wnap", "ctl_wait_nap")
    st = wait_for("the app to wait", lambda: _phase(kube, nap, "waiting"), 120, log)
    began = time.monotonic()
    message = st["steps"]["nap"]["message"]
    assert "waiting for suspend for 8s: it ends at" in message, st
    assert len(got) == 1
    done = wait_for("the app to succeed", lambda: _phase(kube, nap, "succeeded"), 120, log)
    # Resumed at the suspend's end (at most 8 s after it parked), not at a later doubled requeue.
    assert time.monotonic() - began < 8 + 6, done
    assert len(got) == 1, got  # the POST, journaled, made once across the park
