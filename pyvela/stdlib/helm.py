"""Helm charts as components: ``helm`` (the FluxCD addon's properties) and ``helmchart``
(KubeVela's native Helm component).

Both render pyvela's ``HelmRelease`` (``pyvela.dev/v1alpha1``): on a real cluster the helm
CLI installs it (``helm upgrade --install``), on the sandbox it is simulated. KubeVela renders
FluxCD's objects (``helm``) or the chart's own objects (``helmchart``) instead; there is no
controller here to reconcile FluxCD objects, so the release is the workload. Properties that
only a FluxCD controller or KubeVela's renderer can honour (git and bucket sources, values
files, hooks skipped...) are refused with the reason rather than accepted and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from pyvela import HELM_API_VERSION, HELM_KIND, ComponentContext, Obj, WorkloadType, component

from ._types import Checked, Params
from .objects import plain

HELM_RELEASE = WorkloadType(api_version=HELM_API_VERSION, kind=HELM_KIND)


def _release(name: str, namespace: str, chart: dict[str, Any], values: Mapping[str, Any] | None) -> Obj:
    return {
        "apiVersion": HELM_API_VERSION,
        "kind": HELM_KIND,
        # The release lives in its own namespace under its own name (helm's storage keys).
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"releaseName": name, "chart": chart, "values": plain(values or {})},
    }


def _unsupported(what: str, why: str) -> ValueError:
    return ValueError(f"{what} is not supported: {why}")


# --------------------------------------------------------------------------- helm (FluxCD)


@attrs.frozen(kw_only=True)
class GitSource(Checked):
    """Where in a Git repository the chart is (FluxCD's GitRepository reference).

    Attributes:
        branch: The branch to follow.
        commit: A commit (wins over every other reference).
        name: A Git reference name (wins over branch, tag and semver).
        semver: A semantic-version range of tags (wins over tag).
        tag: A tag (wins over branch).
    """

    branch: str | None = "main"
    commit: str | None = None
    name: str | None = None
    semver: str | None = None
    tag: str | None = None


@attrs.frozen(kw_only=True)
class OssSource(Checked):
    """A bucket holding the chart (FluxCD's Bucket source).

    Attributes:
        bucket_name: The bucket.
        provider: ``generic`` (S3-compatible: Minio, S3, GCS, OSS), ``azure``, ``aws`` or ``gcp``.
        region: The bucket's region.
    """

    bucket_name: str
    provider: Literal["generic", "azure", "aws", "gcp"] = "generic"
    region: str | None = None


@attrs.frozen(kw_only=True)
class HelmRepositoryOptions(Checked):
    """How the chart repository is reached.

    Attributes:
        provider: The identity provider for the repository's credentials: ``generic``
            (public repositories or static credentials), ``azure``, ``aws`` or ``gcp``.
    """

    provider: Literal["generic", "azure", "aws", "gcp"] = "generic"


@attrs.frozen(kw_only=True)
class ValuesFrom(Checked):
    """A ConfigMap or Secret holding values for the release.

    Attributes:
        kind: ``Secret`` or ``ConfigMap``.
        name: Its name (in the release's namespace).
        values_key: The key holding the values (default ``values.yaml``).
        target_path: Where in the values to put a single value read from ``values_key``.
        optional: A missing object or key is not an error.
    """

    kind: Literal["Secret", "ConfigMap"]
    name: str
    values_key: str | None = None
    target_path: str | None = None
    optional: bool | None = None


@attrs.frozen(kw_only=True)
class HelmParams(Params):
    """Parameters of ``helm``.

    Attributes:
        repo_type: Where the chart comes from: ``helm`` (an index.yaml repository, default),
            ``oci`` (a registry), ``local`` (a chart directory or archive on this machine,
            pyvela's own); FluxCD's ``git`` and ``oss`` need its source controller and are refused.
        url: The chart repository's URL (an ``oci://`` address for ``oci``; the directory the
            chart path is relative to for ``local``).
        repo_url: Another name for ``url`` (the seed's ``repoUrl``); give one of them.
        chart: The chart's name in the repository, an ``oci://`` reference, or a path for ``local``.
        version: The chart version or a semantic-version range; ``*`` (default) is the newest.
        target_namespace: The namespace the release goes to (default: the app's); created if missing.
        release_name: The release's name (default: the component's name, prefixed with
            ``<target_namespace>-`` when that is given, as FluxCD names it).
        values: Values for the chart.
        pull_interval: How often FluxCD checks the repository (no controller here: no effect).
        interval: How often FluxCD reconciles the release (no controller here: no effect).
        secret_ref: A Secret with the repository's credentials (not supported yet).
        timeout: FluxCD's timeout to fetch the repository index (no effect: the step's deadline holds).
        install_timeout: FluxCD's timeout for the install (no effect: the step's deadline holds).
        source_name: An existing FluxCD source to use (needs FluxCD: refused).
        git: The Git reference (``repo_type="git"``, refused).
        oss: The bucket (``repo_type="oss"``, refused).
        helmrepository: How the repository is reached (only ``provider="generic"``).
        values_files: Values files inside the chart (not supported yet).
        retries: FluxCD's install/upgrade remediation retries (no effect: a step's retries apply).
        values_from: ConfigMaps and Secrets holding values (not supported yet).
        upgrade_crd: Replace the chart's CRDs on upgrade (helm never does: only ``False``).
    """

    repo_type: Literal["helm", "git", "oss", "oci", "local"] = "helm"
    url: str | None = None
    repo_url: str | None = None
    chart: str
    version: str = "*"
    target_namespace: str | None = None
    release_name: str | None = None
    values: Mapping[str, Any] | None = None
    pull_interval: str = "5m"
    interval: str = "30s"
    secret_ref: str | None = None
    timeout: str | None = None
    install_timeout: str = "10m"
    source_name: str | None = None
    git: GitSource | None = None
    oss: OssSource | None = None
    helmrepository: HelmRepositoryOptions | None = None
    values_files: tuple[str, ...] | None = None
    retries: int = 3
    values_from: tuple[ValuesFrom, ...] | None = None
    upgrade_crd: bool = False

    def validate(self) -> None:
        why = "pyvela installs with the helm CLI, without FluxCD's controllers"
        if self.repo_type in ("git", "oss"):
            raise _unsupported(
                f"repo_type {self.repo_type!r}",
                f"{why}; publish the chart to a helm or OCI repository, or use repo_type 'local'",
            )
        if self.source_name is not None:
            raise _unsupported("source_name", f"{why}; give the repository's url")
        if self.url is not None and self.repo_url is not None and self.url != self.repo_url:
            raise ValueError("url and repo_url name the same thing: give one of them")
        if self.url is None and self.repo_url is None and self.repo_type != "local":
            raise ValueError(f"url is required for repo_type {self.repo_type!r} (the chart repository)")
        if self.secret_ref is not None:
            raise _unsupported("secret_ref", "repository credentials are not passed to helm yet")
        if self.values_files is not None:
            raise _unsupported("values_files", "give the values with values")
        if self.values_from is not None:
            raise _unsupported("values_from", "give the values with values")
        if self.upgrade_crd:
            raise _unsupported("upgrade_crd", "helm installs a chart's CRDs once and never replaces them")
        if self.helmrepository is not None and self.helmrepository.provider != "generic":
            raise _unsupported(f"helmrepository.provider {self.helmrepository.provider!r}", why)


@component(name="helm", params=HelmParams, workload=HELM_RELEASE)
def helm(p: HelmParams, ctx: ComponentContext) -> Obj:
    """A Helm chart from a repository, installed as a release by the helm CLI.

    Takes the FluxCD addon's properties (KubeVela's ``helm`` type, the seed's); renders
    pyvela's HelmRelease instead of FluxCD's HelmRepository and HelmRelease.

    Follows kubevela/catalog addons/fluxcd/definitions/helm-release-def.cue (the FluxCD addon).
    """
    namespace = p.target_namespace or ctx.namespace
    name = p.release_name or (f"{p.target_namespace}-{ctx.name}" if p.target_namespace else ctx.name)
    chart: dict[str, Any] = {"name": p.chart}
    if p.version != "*":
        chart["version"] = p.version
    url = p.url if p.url is not None else p.repo_url
    if url is not None:
        chart["repoURL"] = url
    chart["repoType"] = p.repo_type
    return _release(name, namespace, chart, p.values)


# --------------------------------------------------------------------------- helmchart (native)


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
        atomic: Roll back a failed install (not supported: only ``False``).
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
            "atomic": False,
            "wait": False,
            "force": False,
            "recreate_pods": False,
            "cleanup_on_fail": False,
            "max_history": 10,  # helm upgrade's own default
        }
        for name, only in fixed.items():
            if getattr(self, name) != only:
                raise _unsupported(
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
            raise _unsupported(
                "a chart archive URL as chart.source",
                "give the repository as chart.repo_url and the chart's name as chart.source",
            )
        if self.health_status:
            raise _unsupported(
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
    return _release(release.name or ctx.name, release.namespace or ctx.namespace, chart, p.values)
