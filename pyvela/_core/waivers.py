"""The built-in ``waive-checks`` policy: an app lets a guardrail's findings on some of its
components pass, saying why. A waived finding is still reported (``render``, ``check``) and
recorded in the revision that deploys it (``status`` shows it); it no longer stops the run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

import attrs

from pyvela._core.definitions import PolicyUse, policy
from pyvela._core.params import check_value
from pyvela.errors import DanglingReferenceError

NAME = "waive-checks"


@attrs.frozen(kw_only=True)
class Waiver:
    """One rule waived for some components.

    Attributes:
        check: The check's name (``image-pinned``).
        components: The components whose objects it no longer stops (at least one).
        reason: Why (a ticket, an owner): recorded with the revision and shown by ``status``.
    """

    check: str
    components: tuple[str, ...]
    reason: str

    def validate(self, path: str) -> None:
        """Raise TypeError/ValueError naming ``path`` (reported at the policy's call site)."""
        for name, tp in (("check", str), ("components", tuple[str, ...]), ("reason", str)):
            value = getattr(self, name)
            if not check_value(value, tp):
                raise TypeError(
                    f"{path}.{name}: expected {getattr(tp, '__name__', 'tuple[str, ...]')}, got {value!r:.80}"
                )
        if not self.check:
            raise ValueError(f"{path}.check: name the check to waive")
        if not self.components or not all(self.components):
            raise ValueError(f"{path}.components: name at least one component (a waiver is never app-wide)")
        if not self.reason.strip():
            raise ValueError(f"{path}.reason: say why the rule is waived (it is recorded and shown)")

    def covers(self, check: str, component: str | None) -> bool:
        return check == self.check and component is not None and component in self.components


@attrs.frozen(kw_only=True)
class WaiveChecksParams:
    """Parameters of the built-in ``waive-checks`` policy.

    Attributes:
        waivers: The rules waived, each for named components and with a reason.
    """

    waivers: tuple[Waiver, ...]

    def __attrs_post_init__(self) -> None:
        for i, waiver in enumerate(self.waivers):
            if not isinstance(waiver, Waiver):
                raise TypeError(
                    f"waivers[{i}]: expected a Waiver(check=, components=, reason=), got {waiver!r:.80}"
                )
            waiver.validate(f"waivers[{i}]")


@policy(name=NAME, params=WaiveChecksParams)
def waive_checks() -> None:
    """Let a guardrail's findings on named components pass (each with a reason, recorded in the
    revision and shown by ``status``); every other component is still held to the rule."""


def waivers_of(policies: Iterable[PolicyUse[Any]]) -> list[Waiver]:
    """Every waiver of the app's ``waive-checks`` policies."""
    return [
        w
        for p in policies
        if p.definition is waive_checks and isinstance(p.params, WaiveChecksParams)
        for w in p.params.waivers
    ]


def check_waivers(policies: Sequence[PolicyUse[Any]], *, components: Collection[str]) -> None:
    """A waiver naming a component the app does not have is refused at load (a typo would
    otherwise leave the component held to the rule, and the waiver looking as if it worked).

    Raises:
        DanglingReferenceError: naming the policy's line, the waiver and the unknown component.
    """
    for use in policies:
        if use.definition is not waive_checks:
            continue
        for i, waiver in enumerate(use.params.waivers):
            for name in waiver.components:
                if name not in components:
                    raise DanglingReferenceError(
                        f"policy {use.name!r}: waivers[{i}] waives {waiver.check!r} for component "
                        f"{name!r}, which the app does not have",
                        where=use.where,
                        definition=NAME,
                        parameter=f"waivers[{i}].components",
                        expected="one of " + (", ".join(sorted(components)) or "none"),
                        got=repr(name),
                        fix="fix the component's name, or remove it from the waiver",
                    )
