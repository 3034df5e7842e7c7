"""The same 3,000 objects as ``pyvela render benchmarks/apps/seed_1000.py``, written with cdk8s.

A peer measured side by side with pyvela (benchmarks/render_cli.py): a cdk8s user with the
seed's Deployment template would load it once and set the per-service fields in code, as here.
Needs ``pip install cdk8s jinja2 pyyaml`` (cdk8s runs Node.js underneath). Prints the YAML to stdout.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import cdk8s
import jinja2
import yaml

ROOT = Path(__file__).resolve().parent.parent
N = int(os.environ.get("PYVELA_BENCH_N", "1000"))
TEMPLATE = (ROOT / "platform_defs" / "templates" / "base-service.yaml.j2").read_text()


def labels(name: str, trait: str | None = None) -> dict[str, str]:
    out = {
        "app.oam.dev/name": "seed-scale",
        "app.oam.dev/component": name,
        "app.kubernetes.io/managed-by": "pyvela",
    }
    if trait:
        out |= {"trait.oam.dev/type": "ingress", "trait.oam.dev/resource": trait}
    return out


def main() -> None:
    base = yaml.safe_load(jinja2.Template(TEMPLATE).render(name="NAME"))
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "seed-scale")
    for i in range(N):
        name = f"svc-{i}"
        workload = named(base, name)
        meta = workload["metadata"]
        meta["namespace"] = "default"
        meta["labels"] |= labels(name)
        spec = workload["spec"]
        spec["template"]["metadata"]["labels"]["cluster"] = "default"
        container = spec["template"]["spec"]["containers"][0]
        container["image"] = f"registry.example/svc:{i}"
        for env in container["env"]:
            if env["name"] == "RUNTIME_CLUSTER":
                env["value"] = "default"
        obj(chart, f"{name}-deployment", "apps/v1", "Deployment", _meta(meta), spec)
        service = {
            "selector": {"app": name},
            "ports": [{"protocol": "TCP", "port": 11001, "targetPort": 11001}],
        }
        obj(chart, f"{name}-service", "v1", "Service", {"name": name, "namespace": "default",
            "labels": labels(name, "service")}, service)  # fmt: skip
        backend = {"service": {"name": name, "port": {"number": 11001}}}
        route = {"rules": [{"host": f"{name}.dev.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": backend}]}}]}  # fmt: skip
        obj(chart, f"{name}-ingress", "networking.k8s.io/v1", "Ingress", {"name": f"{name}-ingress",
            "namespace": "default", "labels": labels(name, "ingress")}, route)  # fmt: skip
    sys.stdout.write(app.synth_yaml())


def named(node: object, name: str) -> Any:
    """A copy of the template with its name placeholder filled in."""
    if node == "NAME":
        return name
    if isinstance(node, dict):
        return {k: named(v, name) for k, v in node.items()}
    if isinstance(node, list):
        return [named(v, name) for v in node]
    return node


def obj(
    chart: cdk8s.Chart, id: str, api_version: str, kind: str, meta: dict[str, object], spec: object
) -> None:
    made = cdk8s.ApiObject(
        chart, id, api_version=api_version, kind=kind, metadata=cdk8s.ApiObjectMetadata(**meta)
    )
    made.add_json_patch(cdk8s.JsonPatch.add("/spec", spec))


def _meta(meta: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in meta.items() if k in ("name", "namespace", "labels", "annotations")}


if __name__ == "__main__":
    main()
