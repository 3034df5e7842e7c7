"""Helm's release storage as pyvela reads it, and the HelmRelease object made from it.

Helm keeps each revision of a release in a Secret (``sh.helm.release.v1.<name>.v<n>``,
labels ``owner=helm,name=<name>,version=<n>,status=<status>``; or in a ConfigMap with
``HELM_DRIVER=configmap``) holding the gzipped release JSON. The backend lists and
watches those objects directly, and :func:`synthesise` turns the newest one into the
live ``pyvela.dev/v1alpha1 HelmRelease`` object (no ``kubernetes`` import here).

Generation: pyvela labels each release (``helm --labels``) with ``pyvela.dev/generation``
and ``pyvela.dev/spec-hash``; the generation goes up by one whenever the spec's hash
changes and is observed once helm is done with that revision (not ``pending-*``).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import yaml

from pyvela._backends.protocol import Readiness
from pyvela._core.objects import HELM_API_VERSION, HELM_KIND, Obj, ObjectRef
from pyvela.errors import ClusterError

__all__ = [
    "LABEL_GENERATION",
    "LABEL_SPEC_HASH",
    "SYSTEM_LABELS",
    "WORKLOAD_KINDS",
    "Storage",
    "decode_release",
    "latest_release",
    "synthesise",
    "workload_phase",
    "workloads_in",
]

LABEL_GENERATION = "pyvela.dev/generation"
LABEL_SPEC_HASH = "pyvela.dev/spec-hash"
#: Labels helm itself sets on its release storage.
SYSTEM_LABELS = frozenset({"name", "owner", "status", "version", "createdAt", "modifiedAt"})
#: Objects of a release that must be ready for the release to be ready (their readiness rules).
WORKLOAD_KINDS = frozenset(
    {
        ("apps", "Deployment"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("apps", "ReplicaSet"),
        ("batch", "Job"),
        ("", "Pod"),
        ("", "PersistentVolumeClaim"),
        ("argoproj.io", "Rollout"),
    }
)


@attrs.frozen
class Storage:
    """Where helm keeps releases: Secrets (helm's default) or ConfigMaps."""

    api_version: str = "v1"
    kind: str = "Secret"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Storage:
        driver = (os.environ if environ is None else environ).get("HELM_DRIVER", "").strip().lower()
        if driver in ("", "secret", "secrets"):
            return cls()
        if driver in ("configmap", "configmaps"):
            return cls("v1", "ConfigMap")
        raise ClusterError(
            f"HELM_DRIVER={driver} is not supported by pyvela",
            fix="use helm's default storage (secret) or HELM_DRIVER=configmap",
        )

    @staticmethod
    def selector(release: str | None = None) -> dict[str, str]:
        return {"owner": "helm", **({"name": release} if release else {})}


def decode_release(storage: Mapping[str, Any]) -> dict[str, Any] | None:
    """The release helm stored in a Secret or ConfigMap (None when it is not readable)."""
    raw = (storage.get("data") or {}).get("release")
    if not isinstance(raw, str):
        return None
    try:
        data = base64.b64decode(raw)
        if storage.get("kind") == "Secret":
            data = base64.b64decode(data)
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        release = json.loads(data)
    except (ValueError, OSError, EOFError):
        return None
    return release if isinstance(release, dict) else None


def _version(storage: Mapping[str, Any]) -> int:
    value = ((storage.get("metadata") or {}).get("labels") or {}).get("version", "0")
    return int(value) if str(value).isdigit() else 0


def latest_release(storages: Iterable[Obj]) -> tuple[dict[str, Any], Obj] | None:
    """The newest readable release and its storage object."""
    for storage in sorted(storages, key=_version, reverse=True):
        release = decode_release(storage)
        if release is not None:
            return release, storage
    return None


def workloads_in(manifest: str, namespace: str) -> list[ObjectRef]:
    """The objects of a release manifest whose readiness makes the release ready."""
    refs = []
    try:
        docs = list(yaml.safe_load_all(manifest or ""))
    except yaml.YAMLError:
        return []
    for doc in docs:
        if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict):
            continue
        ref = ObjectRef.of(doc)
        if (ref.group, ref.kind) in WORKLOAD_KINDS:
            refs.append(attrs.evolve(ref, namespace=ref.namespace or namespace))
    return refs


def workload_phase(verdicts: Iterable[tuple[ObjectRef, Readiness]]) -> tuple[str, str]:
    """The release phase its workloads make: deployed (all ready), failed, or progressing."""
    waiting = []
    for ref, verdict in verdicts:
        if verdict.failed:
            return "failed", f"{ref}: {verdict.message}"
        if not verdict.ready:
            waiting.append(f"{ref}: {verdict.message}")
    return ("progressing", "; ".join(waiting)) if waiting else ("deployed", "")


def _int(value: Any, default: int) -> int:
    return int(value) if isinstance(value, str | int) and str(value).isdigit() else default


def synthesise(
    name: str,
    namespace: str,
    release: Mapping[str, Any],
    storage: Mapping[str, Any],
    workloads: Iterable[tuple[ObjectRef, Readiness]] | None = None,
) -> Obj:
    """The HelmRelease object for a stored release (its workloads judged when given)."""
    meta = storage.get("metadata") or {}
    all_labels = meta.get("labels") or {}
    labels = {
        k: v for k, v in all_labels.items() if k not in SYSTEM_LABELS and not k.startswith("pyvela.dev/")
    }
    info = release.get("info") or {}
    chart = (release.get("chart") or {}).get("metadata") or {}
    revision = _int(release.get("version"), 0)
    generation = _int(all_labels.get(LABEL_GENERATION), revision)
    helm_status = str(info.get("status") or "unknown")
    observed = generation if not helm_status.startswith("pending") else generation - 1
    status: dict[str, Any] = {
        "phase": helm_status,
        "releaseStatus": helm_status,
        "revision": revision,
        "observedGeneration": observed,
        "chart": chart.get("name"),
        "version": chart.get("version"),
        "appVersion": chart.get("appVersion"),
        "lastDeployed": info.get("last_deployed"),
        "description": info.get("description"),
    }
    if helm_status == "failed":
        status["message"] = str(info.get("description") or "")
    if workloads is not None and helm_status == "deployed":
        status["phase"], message = workload_phase(workloads)
        if message:
            status["message"] = message
    out_meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "generation": generation,
        "resourceVersion": str(meta.get("resourceVersion") or ""),
        "uid": str(meta.get("uid") or ""),
        "creationTimestamp": info.get("first_deployed"),
    }
    if labels:
        out_meta["labels"] = dict(labels)
    if LABEL_SPEC_HASH in all_labels:
        out_meta["annotations"] = {LABEL_SPEC_HASH: all_labels[LABEL_SPEC_HASH]}
    spec = {
        "releaseName": str(release.get("name") or name),
        "chart": {"name": chart.get("name"), "version": chart.get("version")},
        "values": release.get("config") or {},
    }
    return {
        "apiVersion": HELM_API_VERSION,
        "kind": HELM_KIND,
        "metadata": out_meta,
        "spec": spec,
        "status": {k: v for k, v in status.items() if v is not None},
    }
