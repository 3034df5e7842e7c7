"""Apollo's URL paths, each segment percent-encoded as its servers expect."""

from __future__ import annotations

import base64
from urllib.parse import quote

from pyvela._configcentre.protocol import ConfigTarget


def _seg(text: str) -> str:
    return quote(text, safe="")


def namespace_path(target: ConfigTarget) -> str:
    """The Open API path of a namespace (items and releases live below it)."""
    return (
        f"/openapi/v1/envs/{_seg(target.env)}/apps/{_seg(target.app_id)}"
        f"/clusters/{_seg(target.cluster)}/namespaces/{_seg(target.namespace)}"
    )


def item_path(target: ConfigTarget, key: str) -> str:
    if "/" in key or "\\" in key:
        # Servlet containers reject encoded slashes in a path; Apollo's encodedItems
        # endpoints take the key base64-encoded instead.
        encoded = base64.urlsafe_b64encode(key.encode()).decode("ascii")
        return f"{namespace_path(target)}/encodedItems/{encoded}"
    return f"{namespace_path(target)}/items/{_seg(key)}"


def config_path(target: ConfigTarget) -> str:
    """The config service's path of what was released for ``target``."""
    return "/configs/" + "/".join(_seg(s) for s in (target.app_id, target.cluster, target.namespace))


def app_id_from(config_path: str) -> str:
    # "/configs/{appId}/..." as sent (already percent-encoded, as the server extracts it).
    return config_path.split("/")[2]
