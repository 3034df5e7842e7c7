"""A minimal ``applications.core.oam.dev`` CustomResourceDefinition of our own authorship,
for a cluster that never had vela-core (``controller manifests --kubevela --kubevela-crd``):
KubeVela's names and printer columns, an open spec (the loader checks it) and a structural
status listing the fields pyvela writes, named as KubeVela's, so that both prune alike."""

from __future__ import annotations

from typing import Any

from pyvela._controller.kubevela import CRD_NAME, GROUP, KIND, PLURAL, VERSION

_STR: dict[str, Any] = {"type": "string"}
_BOOL: dict[str, Any] = {"type": "boolean"}
_INT: dict[str, Any] = {"type": "integer", "format": "int64"}
_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
_OPEN: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def _object(required: tuple[str, ...] = (), **properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties} | ({"required": list(required)} if required else {})


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


def _status_schema() -> dict[str, Any]:
    fields = {
        "id": _STR,
        "name": _STR,
        "type": _STR,
        "phase": _STR,
        "message": _STR,
        "reason": _STR,
        "firstExecuteTime": _TIME,
        "lastExecuteTime": _TIME,
    }
    step = _object(("id",), **fields, subSteps=_list(_object(("id",), **fields)))
    return _object(
        observedGeneration=_INT,
        status=_STR,
        components=_list(_OPEN),
        services=_list(
            _object(
                ("healthy", "name"),
                name=_STR,
                namespace=_STR,
                cluster=_STR,
                env=_STR,
                healthy=_BOOL,
                message=_STR,
                workloadDefinition=_object(("apiVersion", "kind"), apiVersion=_STR, kind=_STR),
                traits=_list(_object(("healthy", "type"), type=_STR, healthy=_BOOL, message=_STR)),
                scopes=_list(_OPEN),
            )
        ),
        workflow=_object(
            ("finished", "mode", "suspend", "terminated"),
            appRevision=_STR,
            mode=_STR,
            status=_STR,
            message=_STR,
            suspend=_BOOL,
            suspendState=_STR,
            terminated=_BOOL,
            finished=_BOOL,
            contextBackend=_OPEN,
            steps=_list(step),
            startTime=_TIME,
            endTime={**_TIME, "nullable": True},
        ),
        latestRevision=_object(("name", "revision"), name=_STR, revision=_INT, revisionHash=_STR),
        appliedResources=_list(
            _object(
                apiVersion=_STR,
                kind=_STR,
                namespace=_STR,
                name=_STR,
                cluster=_STR,
                creator=_STR,
                uid=_STR,
                resourceVersion=_STR,
                fieldPath=_STR,
            )
        ),
        conditions=_list(
            _object(
                ("lastTransitionTime", "reason", "status", "type"),
                type=_STR,
                status=_STR,
                reason=_STR,
                message=_STR,
                lastTransitionTime=_TIME,
            )
        ),
        policy=_list(_OPEN),
    )


def crd() -> dict[str, Any]:
    """A minimal ``applications.core.oam.dev`` of our own, for a cluster without vela-core:
    KubeVela's names and printer columns, an open spec (the loader checks it), and a
    structural status with the fields pyvela writes (as KubeVela's, so both prune alike)."""
    columns = [
        ("COMPONENT", "string", ".spec.components[*].name"),
        ("TYPE", "string", ".spec.components[*].type"),
        ("PHASE", "string", ".status.status"),
        ("HEALTHY", "boolean", ".status.services[*].healthy"),
        ("STATUS", "string", ".status.services[*].message"),
        ("AGE", "date", ".metadata.creationTimestamp"),
    ]
    spec = _object(("components",), components=_list(_OPEN), policies=_list(_OPEN), workflow=_OPEN)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME, "labels": {"app.kubernetes.io/managed-by": "pyvela"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": "application",
                "shortNames": ["app", "velaapp"],
                "categories": ["oam"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": n, "type": t, "jsonPath": p} for n, t, p in columns
                    ],
                    "schema": {
                        "openAPIV3Schema": _object(
                            apiVersion=_STR,
                            kind=_STR,
                            metadata={"type": "object"},
                            spec=spec,
                            status=_status_schema(),
                        )
                    },
                }
            ],
        },
    }
