"""The config centre of a command is chosen without importing the Apollo client (and httpx):
a deploy that never talks to Apollo does not pay for them; one that does still gets Apollo."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

SCRIPT = textwrap.dedent("""
    import os, sys, tempfile
    from pathlib import Path
    from pyvela._backends.sandbox import Sandbox
    from pyvela._cli.centres import centre_for
    box = Sandbox(Path(tempfile.mkdtemp()))
    factory, config = centre_for(box, app="web")
    print("chosen", config.app_id, "httpx" in sys.modules, "pyvela._configcentre.apollo" in sys.modules)
    centre = factory()
    print("made", type(centre).__name__, "pyvela._configcentre.apollo" in sys.modules)
""")


def run(env: dict[str, str]) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PYVELA_APOLLO")}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_without_apollo_the_client_is_never_imported() -> None:
    chosen, made = run({})
    assert chosen == "chosen web False False"
    assert made.startswith("made ") and made.endswith(" False")


def test_with_apollo_configured_the_client_comes_on_first_use() -> None:
    env = {"PYVELA_APOLLO_PORTAL_URL": "http://127.0.0.1:9", "PYVELA_APOLLO_CONFIG_URL": "http://127.0.0.1:9"}
    chosen, made = run(env)
    assert chosen == "chosen web False False"
    assert made == "made ApolloConfigCentre True"
