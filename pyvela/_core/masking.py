"""Secret values hidden from what people read (``diff``, the dashboard), changes still shown.

A Secret's ``data``/``stringData`` values become placeholders; a key whose value changes
between two versions gets a different placeholder, so a reviewer sees that a value was
added, removed or changed, never the value itself.
"""

from __future__ import annotations

import base64
from typing import Any

from pyvela._core.objects import Obj, deep_copy

_SECRET_FIELDS = ("data", "stringData")
#: The placeholders of masked Secret values: a changed value shows as a changed line.
HIDDEN, HIDDEN_CHANGED = "<hidden>", "<hidden: changed>"


def mask_secrets(before: Obj | None, after: Obj | None) -> tuple[Obj | None, Obj | None]:
    """``before`` and ``after`` with Secret values replaced by placeholders (other kinds as they are)."""
    if (after or before or {}).get("kind") != "Secret":
        return before, after
    old = _secret_values(before)
    new = _secret_values(after)

    def masked(obj: Obj | None, *, is_after: bool) -> Obj | None:
        if obj is None:
            return None
        out: Obj = deep_copy(obj)
        for field in _SECRET_FIELDS:
            values = out.get(field)
            if isinstance(values, dict):
                out[field] = {
                    k: HIDDEN_CHANGED if is_after and k in old and old[k] != new.get(k) else HIDDEN
                    for k in values
                }
        return out

    return masked(before, is_after=False), masked(after, is_after=True)


def _secret_values(obj: Obj | None) -> dict[str, Any]:
    """Every key's value, ``stringData`` folded into ``data`` as the API server does."""
    if obj is None:
        return {}
    values = dict(obj.get("data") or {})
    for k, v in (obj.get("stringData") or {}).items():
        values[k] = base64.b64encode(str(v).encode()).decode()
    return values


def _is_secret(value: Any) -> bool:
    return (
        isinstance(value, dict) and value.get("kind") == "Secret" and any(f in value for f in _SECRET_FIELDS)
    )


def mask_nested(before: Any, after: Any) -> tuple[Any, Any]:
    """``before`` and ``after`` (JSON-like data: an app spec) with every Secret manifest held
    anywhere in them masked, each against the one at the same place in the other.

    An app's properties may carry whole manifests (``k8s-objects``, a raw trait): a Secret
    among them is as secret there as in the cluster.
    """
    if _is_secret(before) or _is_secret(after):
        old = before if isinstance(before, dict) else None
        new = after if isinstance(after, dict) else None
        masked_old, masked_new = mask_secrets(old, new)
        return (masked_old if old is not None else before), (masked_new if new is not None else after)
    if isinstance(before, dict) or isinstance(after, dict):
        b = before if isinstance(before, dict) else {}
        a = after if isinstance(after, dict) else {}
        pairs = {k: mask_nested(b.get(k), a.get(k)) for k in [*b, *(k for k in a if k not in b)]}
        return (
            {k: pairs[k][0] for k in b} if isinstance(before, dict) else before,
            {k: pairs[k][1] for k in a} if isinstance(after, dict) else after,
        )
    if isinstance(before, list) or isinstance(after, list):
        b_list = before if isinstance(before, list) else []
        a_list = after if isinstance(after, list) else []
        size = max(len(b_list), len(a_list))
        pairs_list = [
            mask_nested(b_list[i] if i < len(b_list) else None, a_list[i] if i < len(a_list) else None)
            for i in range(size)
        ]
        return (
            [p[0] for p in pairs_list[: len(b_list)]] if isinstance(before, list) else before,
            [p[1] for p in pairs_list[: len(a_list)]] if isinstance(after, list) else after,
        )
    return before, after
