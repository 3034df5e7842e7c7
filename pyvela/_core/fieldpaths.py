"""Field paths into an object, as KubeVela's policies write them.

``spec.template.spec.containers[0].resources``: fields separated by dots, ``[N]`` for a
list item, ``[key]`` for a field whose name holds dots or slashes
(``metadata.annotations[example.com/owner]``). ``*`` alone means the whole object.
"""

from __future__ import annotations

from typing import Any

Segment = str | int


def parse(path: str) -> tuple[Segment, ...]:
    """The segments of ``path``; ValueError (saying where) when it is malformed."""
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"a field path must be a non-empty string, got {path!r}")
    out: list[Segment] = []
    i, n = 0, len(path)
    expect_field = True
    while i < n:
        ch = path[i]
        if ch == "[":
            end = path.find("]", i)
            if end < 0:
                raise ValueError(f"field path {path!r}: '[' at {i} is never closed")
            inner = path[i + 1 : end].strip()
            if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                inner = inner[1:-1]  # ['a.b'] is accepted as [a.b]
                out.append(inner)
            elif inner.isdigit():
                out.append(int(inner))
            elif inner:
                out.append(inner)
            else:
                raise ValueError(f"field path {path!r}: empty [] at {i}")
            i = end + 1
            expect_field = False
            continue
        if ch == ".":
            if expect_field:
                raise ValueError(f"field path {path!r}: empty field name at {i}")
            i += 1
            expect_field = True
            continue
        if not expect_field:
            raise ValueError(f"field path {path!r}: expected '.' or '[' at {i}")
        j = i
        while j < n and path[j] not in ".[":
            if path[j] == "]":
                raise ValueError(f"field path {path!r}: ']' at {j} was never opened")
            j += 1
        out.append(path[i:j])
        i = j
        expect_field = False
    if expect_field:
        raise ValueError(f"field path {path!r} ends with '.'")
    return tuple(out)


_MISSING = object()


def get(obj: Any, segments: tuple[Segment, ...]) -> Any:
    """The value at ``segments``, or :data:`MISSING`."""
    cur = obj
    for seg in segments:
        if isinstance(seg, int):
            if not isinstance(cur, list) or seg >= len(cur):
                return _MISSING
            cur = cur[seg]
        else:
            if not isinstance(cur, dict) or seg not in cur:
                return _MISSING
            cur = cur[seg]
    return cur


MISSING = _MISSING


def put(obj: Any, segments: tuple[Segment, ...], value: Any) -> None:
    """Set the value at ``segments`` (``MISSING`` removes it), making the dicts on the way."""
    cur = obj
    for k, seg in enumerate(segments[:-1]):
        nxt = segments[k + 1]
        if isinstance(seg, int):
            if not isinstance(cur, list) or seg >= len(cur):
                if value is _MISSING:
                    return
                raise ValueError(f"no list item [{seg}] to set a value under")
            cur = cur[seg]
        else:
            if not isinstance(cur, dict):
                raise ValueError(f"{seg!r} is not under a mapping")
            if seg not in cur or not isinstance(cur[seg], dict | list):
                if value is _MISSING:
                    return
                cur[seg] = [] if isinstance(nxt, int) else {}
            cur = cur[seg]
    last = segments[-1]
    if isinstance(last, int):
        if not isinstance(cur, list):
            raise ValueError(f"[{last}] is not a list item")
        if value is _MISSING:
            if last < len(cur):
                del cur[last]
            return
        if last < len(cur):
            cur[last] = value
        elif last == len(cur):
            cur.append(value)
        else:
            raise ValueError(f"list item [{last}] is past the end")
        return
    if not isinstance(cur, dict):
        raise ValueError(f"{last!r} is not under a mapping")
    if value is _MISSING:
        cur.pop(last, None)
    else:
        cur[last] = value
