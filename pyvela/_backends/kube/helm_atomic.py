"""``atomic`` HelmReleases: a failed install or upgrade is undone, and the failure says so.

helm's own ``--atomic`` waits with ``--wait``; pyvela waits itself (its readiness rules, its
deadline), so it undoes a failure itself, as ``helm --atomic`` would: an upgrade that fails
(helm refuses it, or its workloads never become ready) is rolled back to the revision that
was deployed before it (``helm rollback``); a first install that fails is uninstalled. The
step's error ends with what was done (``atomic: rolled back to revision 3``).
"""

from __future__ import annotations

from typing import Any

import attrs

from pyvela._backends.kube.helm import KubeTarget, run_helm, uninstall_command
from pyvela.errors import PyvelaError


@attrs.frozen
class Undo:
    """How to undo the last install/upgrade of a release: back to ``revision`` (None: none was
    deployed), or uninstall when the release did not exist (``existed`` False)."""

    namespace: str
    name: str
    revision: int | None
    existed: bool


def undo_of(release: dict[str, Any] | None, namespace: str, name: str) -> Undo:
    """The undo for an install/upgrade made over ``release`` (helm's stored release, or None)."""
    if release is None:
        return Undo(namespace, name, None, existed=False)
    deployed = str((release.get("info") or {}).get("status") or "") == "deployed"
    version = release.get("version")
    return Undo(
        namespace, name, int(version) if deployed and isinstance(version, int) else None, existed=True
    )


def undo(helm: str, plan: Undo, error: PyvelaError, *, target: KubeTarget, redact: Any) -> PyvelaError:
    """Undo ``plan`` after ``error``; ``error``, its message saying what was done."""
    what = f"HelmRelease {plan.namespace}/{plan.name}"
    try:
        if plan.revision is not None:
            run_helm(
                [
                    helm,
                    "rollback",
                    plan.name,
                    str(plan.revision),
                    "--namespace",
                    plan.namespace,
                    *target.args(),
                ],
                what=what,
                redact=redact,
            )
            note = f"atomic: rolled back to revision {plan.revision} (helm rollback)"
        elif not plan.existed:
            run_helm(uninstall_command(helm, plan.name, plan.namespace, target), what=what, redact=redact)
            note = "atomic: the failed install was uninstalled (helm uninstall)"
        else:
            note = "atomic: no deployed revision to roll back to"
    except PyvelaError as failed:
        note = f"atomic: the rollback failed too: {failed.message}"
    error.message = f"{error.message}; {note}"
    error.args = (error.message,)
    return error
