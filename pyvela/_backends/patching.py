"""An optional backend capability: a JSON merge patch of an object or of its status.

Operators' commands (``pyvela rollout promote``) change a few fields the way
``kubectl patch --type merge [--subresource status]`` does, and never own them: a merge
patch leaves the fields' managers alone, where a server-side apply would take them over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import ClusterError


@runtime_checkable
class MergePatch(Protocol):
    def merge_patch(self, ref: ObjectRef, patch: Mapping[str, Any], *, status: bool = False) -> Obj:
        """Apply the JSON merge patch ``patch`` (RFC 7386: ``None`` removes a field) to ``ref``,
        or with ``status`` to its status subresource; the object as patched.

        Raises NotFoundError when the object (or, with ``status``, its kind's status
        subresource) does not exist.
        """
        ...


def merge_patcher(backend: object) -> MergePatch:
    """``backend`` as a :class:`MergePatch`; ClusterError when it offers none."""
    if isinstance(backend, MergePatch):
        return backend
    raise ClusterError(f"{getattr(backend, 'description', type(backend).__name__)} cannot patch objects")
