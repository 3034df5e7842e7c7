"""The status subresource of a custom resource whose CRD declares one
(``spec.versions[].subresources.status``), as the API server serves it.

With it, a write of the main resource leaves the status as it was (the sandbox never stores
the status an object is written with), and a write of ``/status`` changes the status alone:
the API server takes everything else (spec, labels, annotations, finalizers) from the stored
object, so neither the generation nor the metadata moves. Without it, ``/status`` is a 404.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from pyvela._backends.sandbox.kinds import CRD_GROUP, CRD_KIND
from pyvela._backends.sandbox.store import Store


def declares_status(conn: sqlite3.Connection, group: str, kind: str, api_version: str) -> bool:
    """Whether the CRD serving ``group``/``kind`` declares a status subresource for the
    version ``api_version`` names."""
    found = conn.execute("SELECT crd FROM crd_kinds WHERE grp=? AND kind=?", (group, kind)).fetchone()
    if found is None:
        return False
    crd = Store.load(conn, CRD_GROUP, CRD_KIND, "", str(found[0]))
    if crd is None:
        return False
    version = api_version.rpartition("/")[2]
    for v in (crd.body.get("spec") or {}).get("versions") or []:
        if isinstance(v, Mapping) and v.get("name") == version:
            return isinstance((v.get("subresources") or {}).get("status"), Mapping)
    return False
