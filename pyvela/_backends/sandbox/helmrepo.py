"""A HelmRelease whose chart repository needs credentials, on the sandbox.

The sandbox opens no repository, but a real cluster refuses the release when its
``secretRef`` Secret is missing or lacks ``username``/``password`` (helm cannot
authenticate): so does the sandbox, with the same words, at apply time.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Mapping
from typing import Any

from pyvela._backends.sandbox.store import Store
from pyvela._core.objects import HELM_KIND
from pyvela.errors import ClusterError


def check_repo_secret(conn: sqlite3.Connection, body: Mapping[str, Any]) -> None:
    """ClusterError when the HelmRelease ``body`` names a repository Secret that will not do."""
    spec = body.get("spec") if isinstance(body.get("spec"), Mapping) else {}
    chart = spec.get("chart") if isinstance(spec, Mapping) else None
    ref = chart.get("secretRef") if isinstance(chart, Mapping) else None
    if not isinstance(ref, Mapping):
        return
    meta = body.get("metadata") or {}
    what = f"{HELM_KIND} {meta.get('namespace') or 'default'}/{meta.get('name')}"
    namespace, name = str(ref.get("namespace") or meta.get("namespace") or "default"), str(ref.get("name"))
    where = f"the Secret {namespace}/{name} (the chart repository's credentials)"
    row = Store.load(conn, "", "Secret", namespace, name)
    if row is None:
        raise ClusterError(f"{what}: {where} does not exist", object=what)
    data = row.body.get("data") or {}
    missing = [k for k in ("username", "password") if not data.get(k) or not base64.b64decode(data[k])]
    if missing:
        raise ClusterError(
            f"{what}: {where} has no {' and no '.join(missing)}",
            object=what,
            expected="keys username and password",
            got="keys " + (", ".join(sorted(data)) or "none"),
        )
