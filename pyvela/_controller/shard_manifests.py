"""The install's Deployments for ``controller manifests --shards M --replicas R``: one
Deployment per shard (``pyvela-controller-shard-N-of-M``, or ``pyvela-controller`` for one
shard), each with ``R`` replicas running ``--shard N/M``. One leads through the shard's
leader Lease in the install namespace; the others stand by.

A Deployment per shard rather than a StatefulSet whose ordinal is the shard: a StatefulSet
gives one pod per ordinal, so a shard would have no standby, and its pod's replacement
waits for the old pod to be confirmed gone (minutes when a node dies), longer than a
standby's takeover within the lease duration.
"""

from __future__ import annotations

import copy
from typing import Any

from pyvela.errors import PyvelaError

#: The pod's own name and namespace from the Downward API: the Lease holder's identity and
#: where the Lease lives.
_DOWNWARD = [
    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
]


def shard_deployments(
    base: dict[str, Any], namespace: str, shards: int, replicas: int
) -> list[dict[str, Any]]:
    """``base`` (the one-replica Deployment) made into one Deployment per shard."""
    for what, value in (("--shards", shards), ("--replicas", replicas)):
        if value < 1:
            raise PyvelaError(f"{what} must be at least 1", got=str(value), fix=f"give {what} 1 or more")
    out = []
    name = str(base["metadata"]["name"])
    for index in range(shards):
        d = copy.deepcopy(base)
        instance = name if shards == 1 else f"{name}-shard-{index}-of-{shards}"
        d["metadata"]["name"] = instance
        for labels in (d["metadata"]["labels"], d["spec"]["selector"]["matchLabels"]):
            labels["app.kubernetes.io/instance"] = instance
        d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/instance"] = instance
        d["spec"]["replicas"] = replicas
        # The standby is up before the old leader goes: on SIGTERM it gives the Lease up, and
        # the new pod takes it at its next read.
        d["spec"]["strategy"] = {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
        }
        container = d["spec"]["template"]["spec"]["containers"][0]
        container["args"] = [
            *container["args"],
            "--shard",
            f"{index}/{shards}",
            "--lease-namespace",
            namespace,
        ]
        container["env"] = copy.deepcopy(_DOWNWARD)
        out.append(d)
    return out
