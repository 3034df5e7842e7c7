"""The ``applications.pyvela.dev`` CustomResourceDefinition, built by code.

``spec`` is KubeVela's Application spec (components, policies, workflow), read by the same
loader as a KubeVela YAML file, or ``spec.module`` naming a Python app module importable in
the controller's environment. ``status`` mirrors ``pyvela status -o json`` (see ``status``).
"""

from __future__ import annotations

from typing import Any

GROUP = "pyvela.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "Application"
PLURAL = "applications"
SINGULAR = "application"
SHORT_NAMES = ("pvapp",)
CRD_NAME = f"{PLURAL}.{GROUP}"
#: Runs ``delete`` (honouring garbage-collect) before the resource goes.
FINALIZER = f"{GROUP}/finalizer"

_OPEN: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_OPEN_LIST: dict[str, Any] = {"type": "array", "items": _OPEN}


def _spec_schema() -> dict[str, Any]:
    # Components, policies and the workflow stay open: the catalogue's definitions give their
    # properties' types, checked by the loader with file:line-like locations, not by the API server.
    return {
        "type": "object",
        "description": "KubeVela's Application spec, or `module` naming a Python app module.",
        "properties": {
            "module": {
                "type": "string",
                "description": "a Python module defining `app` (e.g. apps.lixiang), instead of components",
            },
            "defs": {
                "type": "array",
                "items": {"type": "string"},
                "description": "catalogue modules (default: the controller's --defs)",
            },
            "components": _OPEN_LIST,
            "policies": _OPEN_LIST,
            "workflow": _OPEN,
        },
        "x-kubernetes-validations": [
            {
                "rule": "has(self.module) != has(self.components)",
                "message": "give either spec.module or spec.components, not both and not neither",
            }
        ],
    }


def _status_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "what `pyvela status -o json` says of the app",
        "properties": {
            "phase": {"type": "string"},
            "revision": {"type": "integer"},
            "hash": {"type": "string"},
            "ready": {"type": "string", "description": "objects ready / objects owned"},
            "message": {"type": "string"},
            "app": {"type": "string", "description": "the pyvela app's name (its state record)"},
            "observedGeneration": {"type": "integer"},
            "lastReconciled": {
                "type": "string",
                "description": "the last reconcile that changed the status",
            },
            "failures": {"type": "integer", "description": "consecutive failed reconciles (backoff)"},
            "driftCorrections": {"type": "integer"},
            "steps": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "objects": _OPEN_LIST,
        },
    }


PRINTER_COLUMNS: tuple[dict[str, Any], ...] = (
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Revision", "type": "integer", "jsonPath": ".status.revision"},
    {"name": "Ready", "type": "string", "jsonPath": ".status.ready"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
)


def crd() -> dict[str, Any]:
    """The CustomResourceDefinition, as ``kubectl apply`` takes it."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME, "labels": {"app.kubernetes.io/managed-by": "pyvela"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "plural": PLURAL,
                "singular": SINGULAR,
                "shortNames": list(SHORT_NAMES),
                "categories": ["pyvela"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [dict(c) for c in PRINTER_COLUMNS],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": _spec_schema(),
                                "status": _status_schema(),
                            },
                        }
                    },
                }
            ],
        },
    }
