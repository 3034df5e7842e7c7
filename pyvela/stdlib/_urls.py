"""Kubernetes objects from a YAML file at a URL: ``ref-objects``' ``urls``.

KubeVela (pkg/utils/common HTTPGetKubernetesObjects) GETs the file and decodes every YAML
document in it as an object. One GET, no retries (a retry would nest under the step's own),
under one total deadline, so a server that trickles its answer cannot hold a deploy.
"""

from __future__ import annotations

import time
from typing import Any

from pyvela import Obj
from pyvela.errors import RenderError

from ._types import as_map

#: Seconds a URL's file may take to arrive, connection included (checked between reads).
DEADLINE = 30.0
#: Seconds one connect or read may wait: the deadline is overrun by at most this.
STALL = 5.0
#: Larger files are refused: they are not a handful of objects.
MAX_BYTES = 4 * 1024 * 1024
#: The annotation KubeVela puts on objects loaded from a URL.
ANNOTATION_URL = "app.oam.dev/resource-url"


def objects_at(url: str, *, component: str, parameter: str) -> list[Obj]:
    """The objects of the YAML file at ``url``, each annotated with where it came from.

    Raises:
        RenderError: the URL cannot be read in time, answers other than 2xx, or holds
            something that is not Kubernetes objects (naming the document).
    """
    import httpx
    import yaml

    context: dict[str, Any] = {"component": component, "parameter": parameter}
    if not url.startswith(("http://", "https://")):
        raise RenderError(f"{url}: only http and https URLs are read", got=url, **context)
    end = time.monotonic() + DEADLINE
    body = bytearray()
    try:
        with httpx.stream("GET", url, timeout=httpx.Timeout(STALL), follow_redirects=True) as response:
            if not 200 <= response.status_code < 300:
                raise RenderError(f"GET {url} answered {response.status_code}", **context)
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise RenderError(f"{url}: more than {MAX_BYTES} bytes", **context)
                if time.monotonic() > end:
                    raise RenderError(f"{url}: not read within {DEADLINE:.0f} s", **context)
    except httpx.HTTPError as exc:
        raise RenderError(
            f"cannot read {url}: {type(exc).__name__}: {exc}",
            fix="check the address, or give the objects with k8s-objects",
            **context,
        ) from None
    try:
        documents = [d for d in yaml.safe_load_all(body.decode("utf-8")) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RenderError(f"{url} is not YAML: {exc}", **context) from None
    out: list[Obj] = []
    for i, raw in enumerate(documents):
        obj: Obj = dict(as_map(raw))
        meta = dict(as_map(obj.get("metadata")))
        if not (obj.get("apiVersion") and obj.get("kind") and meta.get("name")):
            raise RenderError(
                f"{url}: document {i + 1} is not a Kubernetes object",
                expected="apiVersion, kind and metadata.name",
                got=f"{type(raw).__name__} with keys {sorted(as_map(raw))[:6]}",  # never its values
                **context,
            )
        annotations = dict(as_map(meta.get("annotations")))
        annotations[ANNOTATION_URL] = url
        obj["metadata"] = {**meta, "annotations": annotations}
        out.append(obj)
    return out
