"""One part of the state record as the cluster stores it (see ``record``): a Secret holding
gzipped JSON, its digest, and the refusal of a part too large for one object."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pyvela._core.objects import LABEL_MANAGED_BY, MANAGER, Obj, ObjectRef
from pyvela.errors import StateError

PART_TYPE = "pyvela.dev/app-state-part"
LABEL_STATE_OF = "pyvela.dev/state-of"
#: The API server refuses objects over 1 MiB; stay well below it.
PART_LIMIT = 900 * 1024
#: What ``json.dumps(value, separators=(",", ":"), default=str)`` builds on every call, made once.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)


def dumps(value: Any) -> bytes:
    return _ENCODER.encode(value).encode()


def digest_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:24]


def part_ref(index: ObjectRef, name: str) -> ObjectRef:
    return ObjectRef("v1", "Secret", index.namespace, f"{index.name}.{name}")


def part_object(index: ObjectRef, app: str, name: str, raw: bytes) -> Obj:
    data = gzip.compress(raw, compresslevel=1)
    if len(data) > PART_LIMIT:
        raise StateError(
            "a part of the state record is too large for one Kubernetes object",
            object=str(index),
            expected=f"at most {PART_LIMIT} bytes gzipped",
            got=f"{len(data)} bytes",
            fix="keep single manifests (ConfigMap data, CRDs) well under 1 MiB",
        )
    ref = part_ref(index, name)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": PART_TYPE,
        "metadata": {
            "name": ref.name,
            "namespace": ref.namespace,
            "labels": {LABEL_MANAGED_BY: MANAGER, LABEL_STATE_OF: app},
        },
        "data": {"part": base64.b64encode(data).decode()},
    }


def read_part(index: ObjectRef, name: str, live: Mapping[str, Any] | None) -> tuple[Any, str]:
    """The JSON value of one part, and the digest of what it holds."""
    fix = f"the record is damaged: delete the Secret {index.namespace}/{index.name} to start over"
    if live is None:
        raise StateError(
            "a part of the state record is missing; refusing to overwrite the record",
            object=str(part_ref(index, name)),
            fix=fix,
        )
    try:
        raw = gzip.decompress(base64.b64decode((live.get("data") or {})["part"]))
        value = json.loads(raw)
    except Exception as exc:
        raise StateError(
            "a part of the state record is corrupt; refusing to overwrite the record",
            object=str(part_ref(index, name)),
            got=f"{type(exc).__name__}: {exc}",
            fix=fix,
        ) from exc
    return value, digest_of(raw)
