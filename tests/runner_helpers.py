"""Running apps in-process on a sandbox, as the CLI does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyvela._app.loader import load_app
from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._cli.run import config_centre_for
from pyvela._workflow.events import Recorder
from pyvela._workflow.lifecycle import AppOps
from pyvela._workflow.results import Options

DEFS = ["platform_defs", "tests.sample_defs"]


def sandbox(root: Path, delay: float = 0.05) -> Sandbox:
    return Sandbox(root, settings=SandboxSettings(ready_delay=delay))


def ops_for(
    path: Path | str, backend: Any, *, events: Recorder | None = None, defs: list[str] = DEFS, **options: Any
) -> AppOps:
    loaded = load_app(path, defs=defs)
    centre, config = config_centre_for(backend, loaded)
    options.setdefault("backoff", 0.01)
    return AppOps(
        backend,
        loaded,
        events=events or Recorder(),
        config_centre=centre,
        config=config,
        options=Options(**options),
    )
