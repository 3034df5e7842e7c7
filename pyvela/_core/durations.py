"""Go durations (``30s``, ``1m30s``, ``1.5h``, ``500ms``) as KubeVela writes them, in seconds:
one reader for step parameters (``suspend``'s ``duration``) and YAML ``timeout`` fields alike."""

from __future__ import annotations

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([a-zµμ]+)")


def parse_duration(text: str, field: str = "duration") -> float:
    """Seconds in a Go duration; ValueError naming ``field`` when ``text`` is not one."""
    rest, total = text.strip(), 0.0
    if not rest or rest == "0":
        if rest == "0":
            return 0.0
        raise ValueError(f"{field}: an empty duration")
    pos = 0
    while pos < len(rest):
        match = _PART.match(rest, pos)
        if match is None or match.group(2) not in _UNITS:
            raise ValueError(
                f"{field} {text!r} is not a duration: write a number and a unit (h, m, s, ms), "
                "e.g. '30s', '1m30s' or '2h'"
            )
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return total
