"""Traits for security settings: podsecuritycontext, securitycontext, service-account."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from pyvela import Obj, TraitContext, TraitResult, trait

from ._patch import Patch, container, no_single_form, on_containers, on_pod_spec, targets
from ._types import Checked, Params
from .traits_containers import POD_WORKLOADS

# --------------------------------------------------------------------------- security


ProfileType = Literal["RuntimeDefault", "Unconfined", "Localhost"]


@attrs.frozen(kw_only=True)
class Profile(Checked):
    """An AppArmor or seccomp profile.

    Attributes:
        type: ``RuntimeDefault``, ``Unconfined`` or ``Localhost``.
        localhost_profile: The profile's file on the node (``Localhost`` only, required there).
    """

    type: ProfileType
    localhost_profile: str | None = None

    def validate(self) -> None:
        if (self.type == "Localhost") != (self.localhost_profile is not None):
            raise ValueError("localhost_profile is required with type Localhost and allowed only there")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.localhost_profile is not None:
            out["localhostProfile"] = self.localhost_profile
        return out


@attrs.frozen(kw_only=True)
class PodSecurityContextParams(Params):
    """Parameters of ``podsecuritycontext``.

    Attributes:
        app_armor_profile: The pods' AppArmor profile.
        fs_group: A group that owns the pods' volumes.
        run_as_group: The group ID the containers run as.
        run_as_user: The user ID the containers run as.
        run_as_non_root: Refuse to start containers that would run as root.
        seccomp_profile: The pods' seccomp profile.
    """

    app_armor_profile: Profile | None = None
    fs_group: int | None = None
    run_as_group: int | None = None
    run_as_user: int | None = None
    run_as_non_root: bool = True
    seccomp_profile: Profile | None = None


@trait(name="podsecuritycontext", params=PodSecurityContextParams, applies_to=POD_WORKLOADS)
def podsecuritycontext(p: PodSecurityContextParams, ctx: TraitContext) -> TraitResult:
    """Set the pod-level security context.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/podsecuritycontext.cue.
    """
    sc: dict[str, Any] = {}
    if p.app_armor_profile is not None:
        sc["appArmorProfile"] = p.app_armor_profile.to_dict()
    for key, value in (("fsGroup", p.fs_group), ("runAsGroup", p.run_as_group), ("runAsUser", p.run_as_user)):
        if value is not None:
            sc[key] = value
    if p.seccomp_profile is not None:
        sc["seccompProfile"] = p.seccomp_profile.to_dict()
    sc["runAsNonRoot"] = p.run_as_non_root
    return TraitResult(patch=on_pod_spec({"securityContext": sc}))


@attrs.frozen(kw_only=True)
class SecurityContextPatch(Checked):
    """A container's security context.

    Attributes:
        container_name: The container (default: the one named after the component).
        add_capabilities: Linux capabilities to add.
        drop_capabilities: Linux capabilities to drop.
        allow_privilege_escalation: Let processes gain more privileges than their parent.
        privileged: Run the container privileged.
        read_only_root_filesystem: Mount the root filesystem read-only.
        run_as_non_root: Refuse to start the container as root.
        run_as_user: The user ID to run as.
        run_as_group: The group ID to run as.
    """

    container_name: str = ""
    add_capabilities: tuple[str, ...] | None = None
    drop_capabilities: tuple[str, ...] | None = None
    allow_privilege_escalation: bool = False
    privileged: bool = False
    read_only_root_filesystem: bool = False
    run_as_non_root: bool = True
    run_as_user: int | None = None
    run_as_group: int | None = None


@attrs.frozen(kw_only=True)
class SecurityContextParams(SecurityContextPatch, Params):
    """Parameters of ``securitycontext``: one container's, or ``containers`` for several.

    Attributes:
        containers: Security contexts of several containers (each names its container).
    """

    containers: tuple[SecurityContextPatch, ...] | None = None

    def validate(self) -> None:
        no_single_form(self, SecurityContextPatch, "containers")


@trait(name="securitycontext", params=SecurityContextParams, applies_to=POD_WORKLOADS)
def securitycontext(p: SecurityContextParams, ctx: TraitContext) -> TraitResult:
    """Set the security context of containers.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/securitycontext.cue.
    """
    items: list[Patch] = []
    for t in targets(ctx, p, p.containers, "containers"):
        container(ctx.workload, t.container_name, trait="securitycontext")
        caps: dict[str, Any] = {}
        if t.add_capabilities is not None:
            caps["add"] = list(t.add_capabilities)
        if t.drop_capabilities is not None:
            caps["drop"] = list(t.drop_capabilities)
        sc: dict[str, Any] = {"capabilities": caps}
        if t.run_as_user is not None:
            sc["runAsUser"] = t.run_as_user
        if t.run_as_group is not None:
            sc["runAsGroup"] = t.run_as_group
        sc.update(
            allowPrivilegeEscalation=t.allow_privilege_escalation,
            readOnlyRootFilesystem=t.read_only_root_filesystem,
            privileged=t.privileged,
            runAsNonRoot=t.run_as_non_root,
        )
        items.append({"name": t.container_name, "securityContext": sc})
    return TraitResult(patch=on_containers(items))


# --------------------------------------------------------------------------- service account


@attrs.frozen(kw_only=True)
class Privilege(Checked):
    """One RBAC rule granted to the service account.

    Attributes:
        verbs: Allowed verbs (``get``, ``list``...).
        api_groups: API groups of the resources.
        resources: Resource types.
        resource_names: Only these objects.
        non_resource_urls: Non-resource URLs (cluster scope only).
        scope: ``namespace`` (default: a Role) or ``cluster`` (a ClusterRole).
    """

    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    resource_names: tuple[str, ...] | None = None
    non_resource_urls: tuple[str, ...] | None = None
    scope: Literal["namespace", "cluster"] = "namespace"


def _rules(privileges: list[Privilege]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in privileges:
        rule: dict[str, Any] = {"verbs": list(p.verbs)}
        for key, value in (
            ("apiGroups", p.api_groups),
            ("resources", p.resources),
            ("resourceNames", p.resource_names),
            ("nonResourceURLs", p.non_resource_urls),
        ):
            if value is not None:
                rule[key] = list(value)
        out.append(rule)
    return out


@attrs.frozen(kw_only=True)
class ServiceAccountParams(Params):
    """Parameters of ``service-account``.

    Attributes:
        name: The service account the pods run as.
        create: Create it (otherwise it must exist).
        privileges: RBAC rules to grant it (Role/ClusterRole and their bindings).
    """

    name: str
    create: bool = False
    privileges: tuple[Privilege, ...] | None = None


@trait(name="service-account", params=ServiceAccountParams, applies_to=POD_WORKLOADS)
def service_account(p: ServiceAccountParams, ctx: TraitContext) -> TraitResult:
    """Run the pods as a service account, optionally creating it and granting it rules.

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/trait/service-account.cue.
    """
    rbac = "rbac.authorization.k8s.io"
    outputs: dict[str, Obj] = {}
    if p.create:
        outputs["service-account"] = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": p.name},
        }
    cluster = [x for x in p.privileges or () if x.scope == "cluster"]
    local = [x for x in p.privileges or () if x.scope == "namespace"]
    if cluster:
        full = f"{ctx.namespace}:{p.name}"
        outputs["cluster-role"] = {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": full},
            "rules": _rules(cluster),
        }
        outputs["cluster-role-binding"] = {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": full},
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": full},
            "subjects": [{"kind": "ServiceAccount", "name": p.name, "namespace": ctx.namespace}],
        }
    if local:
        outputs["role"] = {
            "apiVersion": f"{rbac}/v1",
            "kind": "Role",
            "metadata": {"name": p.name},
            "rules": _rules(local),
        }
        outputs["role-binding"] = {
            "apiVersion": f"{rbac}/v1",
            "kind": "RoleBinding",
            "metadata": {"name": p.name},
            "roleRef": {"apiGroup": rbac, "kind": "Role", "name": p.name},
            "subjects": [{"kind": "ServiceAccount", "name": p.name}],
        }
    return TraitResult(outputs=outputs, patch=on_pod_spec({"serviceAccountName": p.name}))
