"""Rendering components of the standard library in tests, without writing an app file each time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyvela import Application, load_app
from pyvela.testing import RenderedObjects, render

APPS = Path(__file__).with_name("apps")
GOLDEN = Path(__file__).with_name("golden")
DEFS = ["pyvela.stdlib"]

#: The app that apps/held.py hands to the loader (set by :func:`render_components`).
HELD: dict[str, Application] = {}


def render_components(*components: Any, namespace: str = "default") -> RenderedObjects:
    """Render ``components`` as one app named ``t`` through pyvela's loader and renderer."""
    HELD["app"] = Application("t", namespace=namespace, components=list(components))
    return render(load_app(APPS / "held.py", defs=DEFS))


def workload(*components: Any) -> dict[str, Any]:
    """The first component's rendered workload."""
    return render_components(*components).items[0].object
