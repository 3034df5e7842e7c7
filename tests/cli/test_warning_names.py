"""The quoted-name pattern that groups warnings finds exactly what its first form found.

The quote now leads the pattern (so the search jumps from quote to quote); the first form
put the look-behind first. Both must agree on every text: same groups, same names.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._cli.commands import _QUOTED, group_warnings

_FIRST_FORM = re.compile(r"(?<!\w)'[^']*'(?!\w)")

# Quotes, word and non-word characters (ASCII and not), the … the grouping writes.
_TEXT = st.text(alphabet=st.sampled_from(list("'' a_Z9é-:.(…\n")), max_size=40)


@settings(max_examples=2000, deadline=None)
@given(_TEXT)
def test_same_matches_as_the_first_form(text: str) -> None:
    assert _QUOTED.sub("'…'", text) == _FIRST_FORM.sub("'…'", text)
    assert _QUOTED.findall(text) == _FIRST_FORM.findall(text)


def test_edges() -> None:
    for text in ["'a'", "x'a'", "'a'x", "é'a' 'b'", "the component's output 'x'", "''", "'''", "_'a'_"]:
        assert _QUOTED.findall(text) == _FIRST_FORM.findall(text), text


def test_apostrophe_is_not_a_name() -> None:
    lines = group_warnings([f"component 'c{i}': the component's output 'x' is odd" for i in range(4)])
    assert lines == ["4x component {name}: the component's output {name} is odd [c0, c1, c2, … (1 more)]"]
