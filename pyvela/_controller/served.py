"""Which Application resource the controller serves: pyvela's own ``applications.pyvela.dev``
(the default) or, with ``--kubevela``, KubeVela's ``core.oam.dev/v1beta1`` Applications.

Both have a KubeVela spec read by the same loader; they differ in their API group and in
the shape of ``status`` (``status.app_status`` for pyvela's, ``kubevela.kubevela_status``
for KubeVela's), so the operator asks the ``Served`` for the status, whether it changed,
and the merge patch that writes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from pyvela._controller import crd as pyvela_crd

#: (the resource, the pyvela-shaped status the reconcile made, what ``pyvela status -o
#: json`` said (None: the reconcile raised)) -> the status to write.
Shape = Callable[[Mapping[str, Any], dict[str, Any], Mapping[str, Any] | None], dict[str, Any]]


def _same_status(
    _body: Mapping[str, Any], status: dict[str, Any], _view: Mapping[str, Any] | None
) -> dict[str, Any]:
    return status


def _never(_body: Mapping[str, Any]) -> bool:
    return False


def _no_control(_body: Mapping[str, Any]) -> str | None:
    return None


def pyvela_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether writing ``new`` changes the status (``lastReconciled`` aside)."""
    return any(old.get(k) != v for k, v in new.items() if k != "lastReconciled")


def pyvela_patch(old: Mapping[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    # A merge patch merges maps: the steps of an earlier revision are removed explicitly, and
    # so is a step's field it no longer has (a waiting step's message, once it succeeded).
    if isinstance(status.get("steps"), dict):
        for name, was in (old.get("steps") or {}).items():
            now = status["steps"].setdefault(name, None)
            if isinstance(now, dict) and isinstance(was, Mapping):
                status["steps"][name] = {**{k: None for k in was if k not in now}, **now}
    return status


@attrs.frozen
class Served:
    group: str
    version: str
    plural: str
    kind: str
    crd_name: str
    shape: Shape = _same_status
    changed: Callable[[Mapping[str, Any], Mapping[str, Any]], bool] = pyvela_changed
    patch: Callable[[Mapping[str, Any], dict[str, Any]], dict[str, Any]] = pyvela_patch
    #: Whether the resource asks for its suspended workflow to be resumed (KubeVela's CLI
    #: writes that in the status; pyvela's resource has ``pyvela workflow resume``).
    resume_requested: Callable[[Mapping[str, Any]], bool] = _never
    #: ``suspend`` or ``terminate`` when the resource asks for it (None: nothing asked).
    control_requested: Callable[[Mapping[str, Any]], str | None] = _no_control
    #: A restart the resource asks for: ``""`` the whole workflow, else from that step (None: none).
    restart_requested: Callable[[Mapping[str, Any]], str | None] = _no_control
    #: The status written when the finalizer starts deleting the app (None: none).
    deleting: Mapping[str, Any] | None = None

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


PYVELA = Served(
    group=pyvela_crd.GROUP,
    version=pyvela_crd.VERSION,
    plural=pyvela_crd.PLURAL,
    kind=pyvela_crd.KIND,
    crd_name=pyvela_crd.CRD_NAME,
)
