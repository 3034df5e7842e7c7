"""The embedded sandbox: pyvela's default target when no real cluster is named.

A local, persisted, simulated Kubernetes cluster: objects are stored in
``<root>/sandbox.db`` (SQLite, shared by every pyvela process using that root) with the
API server's semantics (uid, resourceVersion, generation, namespaces, Service IPs, CRDs),
and simulated controllers move workloads towards ready over a configurable delay, or
towards a failure on request. It also holds a configuration centre with Apollo's model.

It does not lie: an update the API server refuses (immutable fields, integer fields of the
wrong type) is refused with its words; workloads create their Pods (and StatefulSets their
PVCs); a process whose database is removed, replaced or reset under it fails at its next
access, and a wait fails as soon as its object is deleted.

Public API::

    Sandbox(root: Path | None = None, *, settings: SandboxSettings | None = None,
            read_only: bool | None = None)   # None: read-only when the files are not writable
        .apply / .get / .list / .create / .replace / .delete / .wait / .close  (Backend)
        .config_centre() -> SandboxConfigCentre
        .reset(force=False)   # LockedError while a run holds an app's Lease
        .read_only
    Sandbox.reset_root(root, force=False) -> (Sandbox, moved_aside: Path | None)
    SandboxSettings(ready_delay=1.0, fail_images=("*does-not-exist*",), nodes=1, honour_pauses=False)
        .load(root) reads <root>/sandbox.yaml and $PYVELA_SANDBOX_DELAY
    SandboxConfigCentre  (ConfigCentre)

Per-object annotations: ``sandbox.pyvela.dev/ready-after: "2.5"`` and
``sandbox.pyvela.dev/fail: ImagePullBackOff | JobFailed | Degraded | Failed``.
"""

from pyvela._backends.sandbox.backend import ENV_ROOT, Sandbox, default_root
from pyvela._backends.sandbox.configcentre import SandboxConfigCentre
from pyvela._backends.sandbox.opened import SCHEMA_VERSION
from pyvela._backends.sandbox.settings import (
    ANNOTATION_FAIL,
    ANNOTATION_READY_AFTER,
    ENV_DELAY,
    FAIL_MODES,
    SandboxSettings,
)

__all__ = [
    "ANNOTATION_FAIL",
    "ANNOTATION_READY_AFTER",
    "ENV_DELAY",
    "ENV_ROOT",
    "FAIL_MODES",
    "SCHEMA_VERSION",
    "Sandbox",
    "SandboxConfigCentre",
    "SandboxSettings",
    "default_root",
]
