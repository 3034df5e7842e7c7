"""``helmchart``: KubeVela's native Helm component, installed as a pyvela HelmRelease by the
helm CLI (see :mod:`pyvela.stdlib.helm` for why a release rather than the chart's objects).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from pyvela import ComponentContext, Obj, component

from ._types import Checked, Params
from .helm import HELM_RELEASE, release_object, unsupported


@attrs.frozen(kw_only=True)
class ChartSource(Checked):
    """Where the chart is.

    Attributes:
        source: An ``oci://`` reference, a chart's name in ``repo_url``'s repository, or (pyvela's
            own) a local chart directory or archive when ``repo_url`` is not given.
        repo_url: The chart repository's URL, for a chart given by name.
        version: The chart version (or OCI tag); ``latest`` (default) is the newest.
    """

    source: str
    repo_url: str | None = None
    version: str = "latest"


@attrs.frozen(kw_only=True)
class ChartRelease(Checked):
    """The release's name and namespace.

    Attributes:
        name: The release's name (default: the component's).
        namespace: Its namespace (default: the app's); created if missing.
    """

    name: str | None = None
    namespace: str | None = None


@attrs.frozen(kw_only=True)
class ResourceSelector(Checked):
    """An object of the release's manifest.

    Attributes:
        kind: Its kind (``Deployment``...).
        name: Its name (default: the first of the kind).
    """

    kind: str
    name: str | None = None


@attrs.frozen(kw_only=True)
class ConditionWanted(Checked):
    """A status condition an object must have.

    Attributes:
        type: The condition's type (``Available``, ``Ready``...).
        status: Its wanted status.
    """

    type: str
    status: Literal["True", "False"] = "True"


@attrs.frozen(kw_only=True)
class HealthCriterion(Checked):
    """An object of the release and the condition it must have for the component to be healthy.

    Attributes:
        resource: The object.
        condition: The condition.
    """

    resource: ResourceSelector
    condition: ConditionWanted


@attrs.frozen(kw_only=True)
class ChartCache(Checked):
    """How long KubeVela's renderer caches the chart (pyvela has no chart cache: no effect).

    Attributes:
        key: The cache key.
        ttl: The time to live for this chart.
        immutable_ttl: The time to live of fixed versions.
        mutable_ttl: The time to live of moving tags.
    """

    key: str | None = None
    ttl: str | None = None
    immutable_ttl: str = "24h"
    mutable_ttl: str = "5m"


@attrs.frozen(kw_only=True)
class ChartOptions(Checked):
    """How the chart is installed; values other than pyvela's way are refused.

    Attributes:
        include_crds: Install the chart's CRDs (helm does: only ``True``).
        skip_tests: Leave out the chart's test hooks (helm install never runs them: only ``True``).
        skip_hooks: Leave out the chart's hooks (not supported: only ``False``).
        create_namespace: Create the release's namespace when missing (pyvela does: only ``True``).
        timeout: The rendering timeout (no effect: the step's deadline holds).
        max_history: Release revisions helm keeps (helm's default: only ``10``).
        atomic: Undo a failed install or upgrade: ``helm rollback`` to the revision deployed
            before it (a failed first install is uninstalled); the step's error says so.
        wait: Let helm wait for the objects (pyvela's readiness waits do: only ``False``).
        wait_timeout: helm's wait timeout (no effect).
        force: Replace objects by force (not supported: only ``False``).
        recreate_pods: Restart the pods on upgrade (not supported: only ``False``).
        cleanup_on_fail: Delete new objects of a failed upgrade (not supported: only ``False``).
        cache: The chart cache.
    """

    include_crds: bool = True
    skip_tests: bool = True
    skip_hooks: bool = False
    create_namespace: bool = True
    timeout: str = "5m"
    max_history: int = 10
    atomic: bool = False
    wait: bool = False
    wait_timeout: str = "10m"
    force: bool = False
    recreate_pods: bool = False
    cleanup_on_fail: bool = False
    cache: ChartCache | None = None

    def validate(self) -> None:
        fixed = {
            "include_crds": True,
            "skip_tests": True,
            "skip_hooks": False,
            "create_namespace": True,
            "wait": False,
            "force": False,
            "recreate_pods": False,
            "cleanup_on_fail": False,
            "max_history": 10,  # helm upgrade's own default
        }
        for name, only in fixed.items():
            if getattr(self, name) != only:
                raise unsupported(
                    f"options.{name}={getattr(self, name)}",
                    f"pyvela's helm install always runs with {name}={only}",
                )


@attrs.frozen(kw_only=True)
class HelmChartParams(Params):
    """Parameters of ``helmchart``.

    Attributes:
        chart: Where the chart is and which version.
        release: The release's name and namespace.
        values: Values for the chart.
        health_status: Conditions objects of the release must have (not supported yet: pyvela
            judges a release by its workloads' readiness).
        options: How the chart is installed.
    """

    chart: ChartSource
    release: ChartRelease | None = None
    values: Mapping[str, Any] | None = None
    health_status: tuple[HealthCriterion, ...] | None = None
    options: ChartOptions | None = None

    def validate(self) -> None:
        source = self.chart.source
        if source.startswith(("http://", "https://")):
            raise unsupported(
                "a chart archive URL as chart.source",
                "give the repository as chart.repo_url and the chart's name as chart.source",
            )
        if self.health_status:
            raise unsupported(
                "health_status", "the release is healthy when helm deployed it and its workloads are ready"
            )


@component(name="helmchart", params=HelmChartParams, workload=HELM_RELEASE)
def helmchart(p: HelmChartParams, ctx: ComponentContext) -> Obj:
    """A Helm chart installed as a release by the helm CLI, without FluxCD.

    KubeVela renders the chart itself and applies its objects; pyvela renders a HelmRelease
    and lets helm install the chart, so the release is visible to ``helm list``.

    Follows vela-templates/definitions/internal/component/helmchart.cue of KubeVela's main
    branch (v1.10.1 has no native Helm component).
    """
    release = p.release or ChartRelease()
    chart: dict[str, Any] = {"name": p.chart.source}
    source = p.chart.source
    if source.startswith("oci://"):
        repo_type = "oci"
    elif p.chart.repo_url is not None:
        repo_type = "helm"
        chart["repoURL"] = p.chart.repo_url
    else:
        repo_type = "local"
    if p.chart.version != "latest" and repo_type != "local":
        chart["version"] = p.chart.version
    chart["repoType"] = repo_type
    obj = release_object(release.name or ctx.name, release.namespace or ctx.namespace, chart, p.values)
    if p.options is not None and p.options.atomic:
        obj["spec"]["atomic"] = True
    return obj
