"""An app as KubeVela v1.10 leaves it in a cluster: its objects, labelled as KubeVela labels
them, and the ResourceTrackers that list them (root + versioned, optionally gzip-compressed),
for the ``adopt`` tests on both backends. Written from KubeVela's Go types, not copied.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from pyvela._backends.protocol import Backend

#: A minimal definition of the tracker kind for the sandbox (the e2e test installs KubeVela's own).
TRACKER_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "resourcetrackers.core.oam.dev"},
    "spec": {
        "group": "core.oam.dev",
        "scope": "Cluster",
        "names": {
            "plural": "resourcetrackers",
            "singular": "resourcetracker",
            "kind": "ResourceTracker",
            "listKind": "ResourceTrackerList",
        },
        "versions": [
            {
                "name": "v1beta1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                },
            }
        ],
    },
}


def labels(app: str, namespace: str, component: str, trait: str | None = None) -> dict[str, str]:
    out = {
        "app.oam.dev/name": app,
        "app.oam.dev/namespace": namespace,
        "app.oam.dev/component": component,
        "app.oam.dev/appRevision": f"{app}-v1",
    }
    if trait:
        out["trait.oam.dev/type"] = trait
    return out


def deployment(app: str, ns: str, name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels(app, ns, name)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.oam.dev/component": name}},
            "template": {
                "metadata": {"labels": {"app.oam.dev/component": name}},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }


def config_map(app: str, ns: str, name: str, component: str, owner: str | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels(owner or app, ns, component)},
        "data": {"k": "v"},
    }


def managed(obj: dict[str, Any], component: str, trait: str | None = None, **extra: Any) -> dict[str, Any]:
    meta = obj["metadata"]
    out = {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "namespace": meta.get("namespace", ""),
        "name": meta["name"],
        "component": component,
        **extra,
    }
    if trait:
        out["trait"] = trait
    return out


def tracker(
    app: str,
    ns: str,
    kind: str,
    resources: list[dict[str, Any]],
    *,
    generation: int = 1,
    gzipped: bool = False,
) -> dict[str, Any]:
    name = f"{app}-{ns}" if kind == "root" else f"{app}-v{generation}-{ns}"
    spec: dict[str, Any] = {"type": kind, "applicationGeneration": generation if kind == "versioned" else 0}
    if gzipped:
        data = gzip.compress(json.dumps(resources).encode())
        spec["compression"] = {"type": "gzip", "data": base64.b64encode(data).decode()}
    else:
        spec["managedResources"] = resources
    return {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "ResourceTracker",
        "metadata": {
            "name": name,
            "labels": {"app.oam.dev/name": app, "app.oam.dev/namespace": ns, "app.oam.dev/uid": "0f3c"},
            "finalizers": ["resourcetracker.core.oam.dev/finalizer"],
        },
        "spec": spec,
    }


def plant(backend: Backend, app: str, ns: str, *, gzipped: bool = True, foreign: bool = False) -> None:
    """Create the app's objects and trackers: web (Deployment), web-cfg (ConfigMap), and an
    ``old-cfg`` that the Python app no longer renders (the next deploy prunes it); with
    ``foreign`` one listed object belongs to another app."""
    backend.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    web = deployment(app, ns, "web", "nginx:1.25")
    cfg = config_map(app, ns, "web-cfg", "web")
    old = config_map(app, ns, "old-cfg", "web", owner="someone-else" if foreign else None)
    for obj in (web, cfg, old):
        backend.create(obj)
    backend.create(tracker(app, ns, "root", []))
    resources = [managed(web, "web"), managed(cfg, "web"), managed(old, "web")]
    backend.create(tracker(app, ns, "versioned", resources, generation=1))
    # The newest generation is the one adopted; a deleted entry is not.
    gone = managed(config_map(app, ns, "gone", "web"), "web", deleted=True)
    backend.create(tracker(app, ns, "versioned", [*resources, gone], generation=2, gzipped=gzipped))


APP_MODULE = """
from pyvela import Application
from pyvela.stdlib import k8s_objects

WEB = {web!r}
CFG = {cfg!r}
app = Application("{app}", namespace="{ns}", components=[k8s_objects("web", objects=(WEB, CFG))])
"""


def app_module(app: str, ns: str, image: str) -> str:
    """The same app in Python: web with a new image, web-cfg kept, old-cfg gone."""
    web = deployment(app, ns, "web", image)
    cfg = config_map(app, ns, "web-cfg", "web")
    for obj in (web, cfg):
        obj["metadata"].pop("namespace")
        obj["metadata"]["labels"] = {}
    return APP_MODULE.format(web=web, cfg=cfg, app=app, ns=ns)


KUBEVELA_MODULE = "github.com/oam-dev/kubevela@v1.10.1"


def kubevela_crd(name: str) -> dict[str, Any]:
    """One of KubeVela v1.10.1's CRDs, read from its Go module (downloaded here when missing):
    installed at test time, never copied into this repository."""
    import os
    import shutil
    import subprocess

    import yaml

    go = shutil.which("go")
    if go is None:
        raise RuntimeError("Go is needed to fetch KubeVela's CRDs from its module (install Go >= 1.22)")
    env = {**os.environ, "GONOSUMDB": "github.com/oam-dev/kubevela", "GOFLAGS": "-mod=mod"}
    proc = subprocess.run(
        [go, "mod", "download", "-json", KUBEVELA_MODULE],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"go mod download {KUBEVELA_MODULE} failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
    root = json.loads(proc.stdout)["Dir"]
    path = os.path.join(root, "charts", "vela-core", "crds", name)
    with open(path, encoding="utf-8") as f:
        crd: dict[str, Any] = yaml.safe_load(f)
    return crd
