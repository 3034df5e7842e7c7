"""Printing rendered objects as kubectl-ready YAML or JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pyvela._core.emitter import dump
from pyvela._core.objects import Obj, is_helm_release

HELM_NOTE = "pyvela HelmRelease: installed with the helm CLI (not by kubectl); shown for review"


def to_yaml(objects: Iterable[Obj]) -> str:
    """Multi-document YAML that ``kubectl apply -f -`` accepts.

    Helm releases are not Kubernetes objects: they are printed as commented documents so
    the stream stays applyable while the review still shows them.
    """
    docs = []
    for obj in objects:
        text = dump(obj)
        if is_helm_release(obj):
            text = f"# {HELM_NOTE}\n" + "".join(f"# {line}\n" for line in text.splitlines())
        docs.append(text)
    return "---\n" + "---\n".join(docs) if docs else ""


def to_json(objects: Iterable[Obj]) -> str:
    """A ``v1 List`` of the Kubernetes objects; Helm releases under ``pyvelaHelmReleases``."""
    kube: list[Obj] = []
    helm: list[Obj] = []
    for obj in objects:
        (helm if is_helm_release(obj) else kube).append(obj)
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": kube}
    if helm:
        doc["pyvelaHelmReleases"] = helm
    return json.dumps(doc, indent=2)
