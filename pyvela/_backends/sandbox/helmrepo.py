"""What a real cluster checks of a HelmRelease before helm installs it, on the sandbox.

The sandbox opens no repository and runs no helm, but a real cluster refuses the release
when its ``secretRef`` Secret is missing or lacks ``username``/``password`` (helm cannot
authenticate), or when a ``valuesFrom`` ConfigMap/Secret key is missing or holds no values:
so does the sandbox, with the same words, at apply time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from pyvela._backends.helmvalues import repo_credentials, resolve
from pyvela._backends.sandbox.store import Store
from pyvela._core.objects import HELM_KIND, Obj, ObjectRef


def check_release(conn: sqlite3.Connection, body: Mapping[str, Any]) -> None:
    """ClusterError when the HelmRelease ``body`` names a repository Secret that will not do, or
    ``valuesFrom`` a ConfigMap/Secret key that is missing or not values: helm would not
    install it."""
    spec = body.get("spec") if isinstance(body.get("spec"), Mapping) else {}
    meta = body.get("metadata") or {}

    def stored(ref: ObjectRef) -> Obj | None:
        row = Store.load(conn, "", ref.kind, ref.namespace, ref.name)
        return None if row is None else row.to_obj()

    if isinstance(spec, Mapping) and spec.get("valuesFrom"):
        namespace = str(meta.get("namespace") or "default")
        resolve(spec, namespace, stored, f"{HELM_KIND} {namespace}/{meta.get('name')}")
    chart = spec.get("chart") if isinstance(spec, Mapping) else None
    ref = chart.get("secretRef") if isinstance(chart, Mapping) else None
    if not isinstance(ref, Mapping):
        return
    what = f"{HELM_KIND} {meta.get('namespace') or 'default'}/{meta.get('name')}"
    namespace, name = str(ref.get("namespace") or meta.get("namespace") or "default"), str(ref.get("name"))
    repo_credentials(stored, namespace, name, what)
