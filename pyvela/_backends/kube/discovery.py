"""Which kinds a cluster serves, and where their objects live (no ``kubernetes`` import here).

Discovery is per group version (``GET /api/v1``, ``GET /apis/<group>/<version>``), cached,
and re-read once on a miss so that a CustomResourceDefinition applied moments ago is found;
a kind that is still missing is an :class:`~pyvela.errors.UnknownKindError` that says what
the cluster does serve and which add-on usually provides the kind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import attrs

from pyvela.errors import ClusterError, PyvelaError, UnknownKindError

__all__ = ["ADDONS", "Discovery", "Kind"]

#: Groups whose kinds come with a well-known add-on: named in "unknown kind" errors.
ADDONS = {
    "argoproj.io": "Argo Rollouts",
    "cert-manager.io": "cert-manager",
    "monitoring.coreos.com": "the Prometheus Operator",
    "networking.istio.io": "Istio",
    "gateway.networking.k8s.io": "the Gateway API CRDs",
    "keda.sh": "KEDA",
    "core.oam.dev": "KubeVela",
}


@attrs.frozen
class Kind:
    """One kind the cluster serves: where its objects live."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None, name: str | None = None) -> str:
        out = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            out += f"/namespaces/{quote(namespace, safe='')}"
        out += f"/{self.plural}"
        return out + (f"/{quote(name, safe='')}" if name else "")

    def namespace(self, value: str | None) -> str | None:
        return (value or "default") if self.namespaced else None


class Discovery:
    """The kinds of one cluster, discovered on demand.

    Args:
        call: Makes one GET request: ``call("GET", path, what=...) -> (status, JSON or bytes)``.
        error: Turns an error answer into an exception.
        where: The cluster, for messages ("cluster https://... (context x)").
    """

    def __init__(
        self,
        call: Callable[..., tuple[int, Any]],
        error: Callable[..., PyvelaError],
        where: str,
    ) -> None:
        self.call = call
        self.error = error
        self.description = where
        self._lock = threading.Lock()
        self._kinds: dict[str, dict[str, Kind]] = {}

    def kind(self, api_version: str, kind: str) -> Kind:
        """Where ``kind`` of ``api_version`` lives; UnknownKindError when the cluster does not serve it.

        A miss re-reads the group version once, so a CRD applied moments ago is found.
        """
        if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
            raise ClusterError(f"an object needs apiVersion and kind, got {api_version!r} and {kind!r}")
        with self._lock:
            table = self._kinds.get(api_version)
        if table is not None and kind in table:
            return table[kind]
        table = self._discover(api_version)
        if kind in table:
            return table[kind]
        raise self._unknown(api_version, kind, table)

    def _discover(self, api_version: str) -> dict[str, Kind]:
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{api_version}" if group else f"/api/{version}"
        code, data = self.call("GET", path, what=f"API {api_version}")
        table: dict[str, Kind] = {}
        if 200 <= code < 300:
            for res in data.get("resources") or []:
                if "/" not in res.get("name", "/") and res.get("kind"):
                    table.setdefault(
                        res["kind"],
                        Kind(group, version, res["kind"], res["name"], bool(res.get("namespaced"))),
                    )
        elif code != 404:
            raise self.error(code, data, what=f"API {api_version}", verb="GET")
        with self._lock:
            self._kinds[api_version] = table
        return table

    def _unknown(self, api_version: str, kind: str, table: Mapping[str, Kind]) -> UnknownKindError:
        group = api_version.rpartition("/")[0]
        hint = (
            f"is {ADDONS[group]} installed?"
            if group in ADDONS
            else "is its CustomResourceDefinition installed?"
        )
        known = f"it serves {', '.join(sorted(table))}" if table else f"{api_version} is not served at all"
        if not table and group:
            code, data = self.call("GET", f"/apis/{group}", what=f"API group {group}")
            versions = [v.get("groupVersion") for v in data.get("versions") or []] if code == 200 else []
            if versions:
                known = f"{api_version} is not served; the group serves {', '.join(map(str, versions))}"
        return UnknownKindError(
            f'no kind "{kind}" in {api_version} on {self.description}: {hint} ({known})',
            object=f"{kind} ({api_version})",
            fix=f"install the CustomResourceDefinition (or add-on) that serves {kind} in {api_version}",
        )

    def stale(self, api_version: str, kind: str) -> Kind:
        """After a 404 without a Status (the resource path is gone): re-discover, maybe fail."""
        with self._lock:
            self._kinds.pop(api_version, None)
        return self.kind(api_version, kind)
