"""Which guardrails a catalogue turns on: the standard ones only when their module is named."""

from __future__ import annotations

from pyvela._app.catalogue import Catalogue


def test_naming_the_standard_library_does_not_turn_its_guardrails_on() -> None:
    assert Catalogue.from_modules(["pyvela.stdlib"]).checks == ()


def test_naming_the_guardrails_module_turns_them_on() -> None:
    names = {c.name for c in Catalogue.from_modules(["pyvela.stdlib.guardrails"]).checks}
    assert {"resources-set", "probes-set"} <= names
