"""The values of the Helm chart under ``deploy/chart/`` (``controller manifests
--helm-values``): the chart is a thin template of the objects ``controller manifests``
builds, so what is computed here (the least-privilege rules from the catalogue's kinds,
the resources) reaches it as values rather than being written twice.

The chart's own ``values.yaml`` is this output for the default options, and its CRD files
are ``crd()`` and ``kubevela_crd.crd()`` as YAML: tests/controller/test_chart.py holds them
equal (``PYVELA_UPDATE_GOLDEN=1`` rewrites them) and renders the chart with helm.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from pyvela._controller.crd import crd
from pyvela._controller.kubevela import KUBEVELA
from pyvela._controller.kubevela_crd import crd as kubevela_crd
from pyvela._controller.manifests import BIND, RESOURCES, cluster_role
from pyvela._controller.served import PYVELA

#: The chart's CRD files (``templates/crd.yaml`` includes one of them).
CRD_FILES = {"files/applications.pyvela.dev.yaml": crd, "files/applications.core.oam.dev.yaml": kubevela_crd}

_COMMENTS = {
    "image": "The controller's image.",
    "namespace": "Where the controller runs; empty: the release's namespace (helm -n).",
    "createNamespace": "Render that Namespace, as `controller manifests` does (false with "
    "`helm install --create-namespace`).",
    "watchNamespaces": "Only these namespaces' Applications are reconciled (empty: all).",
    "kubevela": "Reconcile KubeVela's core.oam.dev/v1beta1 Applications instead of applications.pyvela.dev.",
    "crd": "Install the CRD: pyvela's; with kubevela, a minimal applications.core.oam.dev of pyvela's "
    "own (only for a cluster without vela-core's).",
    "bind": "Where the pod serves /metrics, /healthz and /readyz (the probes' port).",
    "shards": "Shards, one Deployment each (--shard N/M, a leader Lease per shard).",
    "replicas": "Replicas of each shard: one leads, the others stand by.",
    "resources": "The controller container's resources.",
    "rules": "The ClusterRole's rules, least privilege for the catalogue's kinds: print them for your "
    "catalogue with `python -m pyvela controller manifests --helm-values --defs MODULE [--kind ...]`.",
}


def helm_values(
    *,
    kinds: Sequence[tuple[str, str]],
    namespace: str = "pyvela-system",
    image: str = "pyvela:latest",
    watch_namespaces: Sequence[str] = (),
    shards: int = 1,
    replicas: int = 1,
    kubevela: bool = False,
    kubevela_crd: bool = False,
    bind: str = BIND,
) -> dict[str, Any]:
    """The chart's values that render what ``manifests()`` returns for the same arguments."""
    return {
        "image": image,
        "namespace": namespace,
        "createNamespace": True,
        "watchNamespaces": list(watch_namespaces),
        "kubevela": kubevela,
        "crd": kubevela_crd if kubevela else True,
        "bind": bind,
        "shards": shards,
        "replicas": replicas,
        "resources": RESOURCES,
        "rules": cluster_role(kinds, KUBEVELA if kubevela else PYVELA)["rules"],
    }


def values_text(values: dict[str, Any]) -> str:
    """``values`` as a commented values.yaml."""
    out = [
        "# Values of pyvela's controller chart, printed by",
        "#   python -m pyvela controller manifests --helm-values [the options of `controller manifests`]",
        "# `helm template` then renders what `controller manifests` prints for the same options.",
    ]
    for key, value in values.items():
        out.append("")
        out.append(f"# {_COMMENTS[key]}")
        out.append(yaml.safe_dump({key: value}, sort_keys=False, default_flow_style=False).rstrip())
    return "\n".join(out) + "\n"


def crd_text(name: str) -> str:
    return yaml.safe_dump(CRD_FILES[name](), sort_keys=False)
