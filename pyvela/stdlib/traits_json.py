"""Raw patches of the workload: ``json-merge-patch`` (RFC 7396) and ``json-patch`` (RFC 6902)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pyvela import TraitContext, TraitResult, trait

from . import _jsonpatch
from ._types import Params

_NEEDS = {
    "add": ("path", "value"),
    "remove": ("path",),
    "replace": ("path", "value"),
    "move": ("from", "path"),
}
_NEEDS.update({"copy": ("from", "path"), "test": ("path", "value")})


@attrs.frozen(kw_only=True)
class JsonMergePatchParams(Params):
    """Parameters of ``json-merge-patch`` (KubeVela's properties are the patch itself).

    Attributes:
        patch: An RFC 7396 merge patch of the workload: maps merge, ``None`` removes a
            field, any other value (lists included) replaces it.
    """

    patch: Mapping[str, Any]


@trait(name="json-merge-patch", params=JsonMergePatchParams)
def json_merge_patch(p: JsonMergePatchParams, ctx: TraitContext) -> TraitResult:
    """Patch the workload with a JSON merge patch.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/json-merge-patch.cue.
    """
    wanted = _jsonpatch.merge_patch(ctx.workload, p.patch)
    return TraitResult(patch=_jsonpatch.as_merge_patch(ctx.workload, wanted, trait="json-merge-patch"))


@attrs.frozen(kw_only=True)
class JsonPatchParams(Params):
    """Parameters of ``json-patch``.

    Attributes:
        operations: RFC 6902 operations, applied in order: ``{"op": "add", "path":
            "/spec/replicas", "value": 3}``; ``op`` is add, remove, replace, move, copy or test.
    """

    operations: tuple[Mapping[str, Any], ...]

    def validate(self) -> None:
        for i, op in enumerate(self.operations):
            needs = _NEEDS.get(op.get("op"))  # type: ignore[arg-type]
            if needs is None:
                raise ValueError(
                    f"operations[{i}]: op must be one of {', '.join(_NEEDS)}, not {op.get('op')!r}"
                )
            missing = [k for k in needs if k not in op]
            if missing:
                raise ValueError(f"operations[{i}] ({op['op']}) needs {', '.join(missing)}")


@trait(name="json-patch", params=JsonPatchParams)
def json_patch(p: JsonPatchParams, ctx: TraitContext) -> TraitResult:
    """Patch the workload with JSON patch operations.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/json-patch.cue.
    """
    wanted = _jsonpatch.json_patch(ctx.workload, list(p.operations))
    return TraitResult(patch=_jsonpatch.as_merge_patch(ctx.workload, wanted, trait="json-patch"))
