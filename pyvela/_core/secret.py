"""Secret values a step hands to an action (a webhook URL carrying its token, an SMTP password).

A :class:`Secret` shows only its label (``***``, or a URL's scheme and host) to ``str``,
``repr`` and JSON, so an action's description (progress lines, errors, the journal) and its
fingerprint (the state record) never carry the value; only the executor calls
:meth:`Secret.reveal`, right where the value goes on the wire.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qsl, unquote, urlsplit

# Fragments shorter than this are too common to scrub from text without mangling it (``/``, ``v1``);
# a path segment must be longer still to look like a token (``services`` is not one).
_MIN_FRAGMENT = 6
_MIN_SEGMENT = 16


class Secret:
    """A value that must never be shown or stored; ``reveal()`` gives it back.

    Args:
        value: The secret itself.
        label: What is shown instead (default ``***``); see :meth:`url` for URLs.
    """

    __slots__ = ("_value", "label")

    def __init__(self, value: str, label: str = "***") -> None:
        self._value = value
        self.label = label

    @classmethod
    def url(cls, value: str) -> Secret:
        """A secret URL, shown as its scheme and host only (``https://hooks.example/***``)."""
        parts = urlsplit(value)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        label = f"{parts.scheme}://{host}/***" if parts.scheme and host else "***"
        return cls(value, label)

    def reveal(self) -> str:
        """The value, for the one place it is sent."""
        return self._value

    def fragments(self) -> list[str]:
        """The value and the parts a server may echo back alone (a URL's path, query values,
        password), longest first."""
        found = {self._value}
        parts = urlsplit(self._value)
        if parts.scheme and parts.netloc:
            found.update({parts.path, parts.query, unquote(parts.path), parts.password or ""})
            found.update(v for _k, v in parse_qsl(parts.query))
            found.update(seg for seg in parts.path.split("/") if len(seg) >= _MIN_SEGMENT)
        return sorted((f for f in found if len(f) >= _MIN_FRAGMENT), key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """``text`` with the value (and its fragments) replaced by ``***``."""
        for fragment in self.fragments():
            text = text.replace(fragment, "***")
        return text

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"Secret({self.label!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, _memo: object) -> Secret:
        return self

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the value wherever the pickle goes: refused.
        raise TypeError("a Secret cannot be pickled")


def reveal(value: str | Secret) -> str:
    """``value`` itself, or a Secret's value."""
    return value.reveal() if isinstance(value, Secret) else value
