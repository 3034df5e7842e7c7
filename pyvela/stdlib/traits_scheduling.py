"""Traits that steer where pods run: affinity (with tolerations) and topologyspreadconstraints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from pyvela import TraitContext, TraitResult, trait

from ._patch import on_pod_spec
from ._types import Checked, Params
from .traits_containers import POD_WORKLOADS


@attrs.frozen(kw_only=True)
class LabelRequirement(Checked):
    """A label condition.

    Attributes:
        key: The label.
        operator: ``In`` (default), ``NotIn``, ``Exists`` or ``DoesNotExist``.
        values: The values for ``In``/``NotIn``.
    """

    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"] = "In"
    values: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class LabelSelector(Checked):
    """Selects objects by label.

    Attributes:
        match_labels: Labels that must have these values.
        match_expressions: Conditions that must all hold.
    """

    match_labels: Mapping[str, str] | None = None
    match_expressions: tuple[LabelRequirement, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.match_labels is not None:
            out["matchLabels"] = dict(self.match_labels)
        if self.match_expressions is not None:
            out["matchExpressions"] = [_requirement(r) for r in self.match_expressions]
        return out


def _requirement(r: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"key": r.key, "operator": r.operator}
    if r.values is not None:
        out["values"] = list(r.values)
    return out


@attrs.frozen(kw_only=True)
class PodAffinityTerm(Checked):
    """Pods (selected by label) that must, or must not, run in the same topology domain.

    Attributes:
        topology_key: The node label that defines a domain (``kubernetes.io/hostname``...).
        label_selector: The pods.
        namespaces: Their namespaces (default: the pod's own).
        namespace_selector: Namespaces selected by label.
    """

    topology_key: str
    label_selector: LabelSelector | None = None
    namespaces: tuple[str, ...] | None = None
    namespace_selector: LabelSelector | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.label_selector is not None:
            out["labelSelector"] = self.label_selector.to_dict()
        if self.namespaces is not None:
            out["namespaces"] = list(self.namespaces)
        out["topologyKey"] = self.topology_key
        if self.namespace_selector is not None:
            out["namespaceSelector"] = self.namespace_selector.to_dict()
        return out


def _weight(weight: int) -> None:
    if not 1 <= weight <= 100:
        raise ValueError(f"weight {weight} is not in 1-100")


@attrs.frozen(kw_only=True)
class WeightedPodAffinityTerm(Checked):
    """A preferred pod (anti-)affinity.

    Attributes:
        weight: How much it counts (1-100).
        pod_affinity_term: The term.
    """

    weight: int
    pod_affinity_term: PodAffinityTerm

    def validate(self) -> None:
        _weight(self.weight)


@attrs.frozen(kw_only=True)
class PodAffinity(Checked):
    """Pod affinity or anti-affinity.

    Attributes:
        required: Terms that must hold for the pod to be scheduled.
        preferred: Terms the scheduler tries to honour.
    """

    required: tuple[PodAffinityTerm, ...] | None = None
    preferred: tuple[WeightedPodAffinityTerm, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.required is not None:
            out["requiredDuringSchedulingIgnoredDuringExecution"] = [t.to_dict() for t in self.required]
        if self.preferred is not None:
            out["preferredDuringSchedulingIgnoredDuringExecution"] = [
                {"weight": t.weight, "podAffinityTerm": t.pod_affinity_term.to_dict()} for t in self.preferred
            ]
        return out


@attrs.frozen(kw_only=True)
class NodeSelectorRequirement(Checked):
    """A condition on a node's labels or fields.

    Attributes:
        key: The label or field.
        operator: ``In`` (default), ``NotIn``, ``Exists``, ``DoesNotExist``, ``Gt`` or ``Lt``.
        values: The values compared with.
    """

    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"] = "In"
    values: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class NodeSelectorTerm(Checked):
    """Conditions a node must all meet.

    Attributes:
        match_expressions: Conditions on node labels.
        match_fields: Conditions on node fields.
    """

    match_expressions: tuple[NodeSelectorRequirement, ...] | None = None
    match_fields: tuple[NodeSelectorRequirement, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.match_expressions is not None:
            out["matchExpressions"] = [_requirement(r) for r in self.match_expressions]
        if self.match_fields is not None:
            out["matchFields"] = [_requirement(r) for r in self.match_fields]
        return out


@attrs.frozen(kw_only=True)
class NodeSelector(Checked):
    """Nodes that may run the pod.

    Attributes:
        node_selector_terms: Any one of these terms must hold.
    """

    node_selector_terms: tuple[NodeSelectorTerm, ...]


@attrs.frozen(kw_only=True)
class PreferredNode(Checked):
    """A node preference.

    Attributes:
        weight: How much it counts (1-100).
        preference: The nodes preferred.
    """

    weight: int
    preference: NodeSelectorTerm

    def validate(self) -> None:
        _weight(self.weight)


@attrs.frozen(kw_only=True)
class NodeAffinity(Checked):
    """Node affinity.

    Attributes:
        required: Nodes the pod must run on.
        preferred: Nodes the scheduler tries to use.
    """

    required: NodeSelector | None = None
    preferred: tuple[PreferredNode, ...] | None = None


@attrs.frozen(kw_only=True)
class Toleration(Checked):
    """Lets pods run on nodes with a matching taint.

    Attributes:
        key: The taint's key (empty with ``Exists``: every taint).
        operator: ``Equal`` (default) or ``Exists``.
        value: The taint's value (with ``Equal``).
        effect: ``NoSchedule``, ``PreferNoSchedule`` or ``NoExecute`` (default: all).
        toleration_seconds: How long a ``NoExecute`` taint is tolerated.
    """

    key: str | None = None
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = None


@attrs.frozen(kw_only=True)
class AffinityParams(Params):
    """Parameters of ``affinity``.

    Attributes:
        pod_affinity: Run near pods with these labels.
        pod_anti_affinity: Run away from pods with these labels.
        node_affinity: Run on nodes with these labels.
        tolerations: Taints the pods tolerate.
    """

    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAffinity | None = None
    node_affinity: NodeAffinity | None = None
    tolerations: tuple[Toleration, ...] | None = None


@trait(name="affinity", params=AffinityParams, applies_to=POD_WORKLOADS)
def affinity(p: AffinityParams, ctx: TraitContext) -> TraitResult:
    """Set pod affinity, anti-affinity, node affinity and tolerations.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/affinity.cue.
    """
    spec: dict[str, Any] = {}
    aff: dict[str, Any] = {}
    if p.pod_affinity is not None:
        aff["podAffinity"] = p.pod_affinity.to_dict()
    if p.pod_anti_affinity is not None:
        aff["podAntiAffinity"] = p.pod_anti_affinity.to_dict()
    if p.node_affinity is not None:
        node: dict[str, Any] = {}
        if p.node_affinity.required is not None:
            terms = [t.to_dict() for t in p.node_affinity.required.node_selector_terms]
            node["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": terms}
        if p.node_affinity.preferred is not None:
            node["preferredDuringSchedulingIgnoredDuringExecution"] = [
                {"weight": t.weight, "preference": t.preference.to_dict()} for t in p.node_affinity.preferred
            ]
        aff["nodeAffinity"] = node
    if aff:
        spec["affinity"] = aff
    if p.tolerations is not None:
        tolerations: list[dict[str, Any]] = []
        for t in p.tolerations:
            item: dict[str, Any] = {}
            item.update(
                {k: v for k, v in (("key", t.key), ("effect", t.effect), ("value", t.value)) if v is not None}
            )
            item["operator"] = t.operator
            if t.toleration_seconds is not None:
                item["tolerationSeconds"] = t.toleration_seconds
            tolerations.append(item)
        spec["tolerations"] = tolerations
    return TraitResult(patch=on_pod_spec(spec) if spec else None)


@attrs.frozen(kw_only=True)
class SpreadConstraint(Checked):
    """How evenly matching pods spread over a topology.

    Attributes:
        max_skew: The largest allowed difference in pod count between two domains.
        topology_key: The node label that defines a domain.
        label_selector: The pods counted.
        when_unsatisfiable: ``DoNotSchedule`` (default) or ``ScheduleAnyway``.
        min_domains: The fewest eligible domains.
        match_label_keys: Pod labels whose values further select the pods counted.
        node_affinity_policy: ``Honor`` or ``Ignore`` the pod's node affinity when counting.
        node_taints_policy: ``Honor`` or ``Ignore`` node taints when counting.
    """

    max_skew: int
    topology_key: str
    label_selector: LabelSelector
    when_unsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"] = "DoNotSchedule"
    min_domains: int | None = None
    match_label_keys: tuple[str, ...] | None = None
    node_affinity_policy: Literal["Honor", "Ignore"] | None = None
    node_taints_policy: Literal["Honor", "Ignore"] | None = None


@attrs.frozen(kw_only=True)
class TopologySpreadParams(Params):
    """Parameters of ``topologyspreadconstraints``.

    Attributes:
        constraints: The spread constraints (they replace the pods' existing ones).
    """

    constraints: tuple[SpreadConstraint, ...]


@trait(name="topologyspreadconstraints", params=TopologySpreadParams, applies_to=POD_WORKLOADS)
def topologyspreadconstraints(p: TopologySpreadParams, ctx: TraitContext) -> TraitResult:
    """Spread the pods over zones, nodes or other topology domains.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/topologyspreadconstraints.cue.
    """
    items: list[dict[str, Any]] = []
    for c in p.constraints:
        item: dict[str, Any] = {
            "maxSkew": c.max_skew,
            "topologyKey": c.topology_key,
            "whenUnsatisfiable": c.when_unsatisfiable,
            "labelSelector": c.label_selector.to_dict(),
        }
        for key, value in (
            ("nodeAffinityPolicy", c.node_affinity_policy),
            ("nodeTaintsPolicy", c.node_taints_policy),
            ("minDomains", c.min_domains),
        ):
            if value is not None:
                item[key] = value
        if c.match_label_keys is not None:
            item["matchLabelKeys"] = list(c.match_label_keys)
        items.append(item)
    return TraitResult(patch=on_pod_spec({"topologySpreadConstraints": items}))
