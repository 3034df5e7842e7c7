"""Helm charts as components: ``helm`` (the FluxCD addon's properties); ``helmchart``
(KubeVela's native Helm component) is in :mod:`pyvela.stdlib.helmchart`.

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


def release_object(name: str, namespace: str, chart: dict[str, Any], values: Mapping[str, Any] | None) -> Obj:
    return {
        "apiVersion": HELM_API_VERSION,
        "kind": HELM_KIND,
        # The release lives in its own namespace under its own name (helm's storage keys).
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"releaseName": name, "chart": chart, "values": plain(values or {})},
    }


def unsupported(what: str, why: str) -> ValueError:
    """The error of a property pyvela cannot honour, with the reason."""
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
        secret_ref: A Secret in the app's namespace with the repository's ``username`` and
            ``password`` (basic auth; a helm repository only). Read when the release is
            installed, never stored or shown.
        timeout: FluxCD's timeout to fetch the repository index (no effect: the step's deadline holds).
        install_timeout: FluxCD's timeout for the install (no effect: the step's deadline holds).
        source_name: An existing FluxCD source to use (needs FluxCD: refused).
        git: The Git reference (``repo_type="git"``, refused).
        oss: The bucket (``repo_type="oss"``, refused).
        helmrepository: How the repository is reached (only ``provider="generic"``).
        values_files: Values files inside the chart (not supported yet).
        retries: FluxCD's install/upgrade remediation retries (no effect: a step's retries apply).
        values_from: ConfigMaps and Secrets (in the release's namespace) holding values, merged
            in order under ``values``; read when the release is installed, never stored.
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
            raise unsupported(
                f"repo_type {self.repo_type!r}",
                f"{why}; publish the chart to a helm or OCI repository, or use repo_type 'local'",
            )
        if self.source_name is not None:
            raise unsupported("source_name", f"{why}; give the repository's url")
        if self.url is not None and self.repo_url is not None and self.url != self.repo_url:
            raise ValueError("url and repo_url name the same thing: give one of them")
        if self.url is None and self.repo_url is None and self.repo_type != "local":
            raise ValueError(f"url is required for repo_type {self.repo_type!r} (the chart repository)")
        if self.secret_ref is not None and self.repo_type != "helm":
            raise unsupported(
                f"secret_ref with repo_type {self.repo_type!r}", "credentials are for a helm repository"
            )
        if self.values_files is not None:
            raise unsupported("values_files", "give the values with values")
        if self.upgrade_crd:
            raise unsupported("upgrade_crd", "helm installs a chart's CRDs once and never replaces them")
        if self.helmrepository is not None and self.helmrepository.provider != "generic":
            raise unsupported(f"helmrepository.provider {self.helmrepository.provider!r}", why)


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
    if p.secret_ref is not None:
        chart["secretRef"] = {"name": p.secret_ref, "namespace": ctx.namespace}
    release = release_object(name, namespace, chart, p.values)
    if p.values_from:
        release["spec"]["valuesFrom"] = [_values_from(v) for v in p.values_from]
    return release


def _values_from(v: ValuesFrom) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": v.kind, "name": v.name}
    for key, value in (("valuesKey", v.values_key), ("targetPath", v.target_path), ("optional", v.optional)):
        if value is not None:
            out[key] = value
    return out
