"""An app built by the test that renders it (see stdlib_support.render_components)."""

from stdlib_support import HELD

app = HELD["app"]
