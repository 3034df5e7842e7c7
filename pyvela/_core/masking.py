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
