"""Run-to-completion workloads: ``task`` (a Job) and ``cron-task`` (a CronJob, batch/v1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from pyvela import ComponentContext, Obj, WorkloadType, component

from ._pod import pod_metadata, pod_spec
from ._types import EnvVar, HealthProbe, HostAlias, Params, PullPolicy, host_aliases
from ._volumes import Volume, VolumeMounts
from .health import always_healthy, health_of, task_status

JOB = WorkloadType(api_version="batch/v1", kind="Job")
CRON_JOB = WorkloadType(api_version="batch/v1", kind="CronJob")


@attrs.frozen(kw_only=True)
class TaskParams(Params):
    """Parameters of ``task``.

    Attributes:
        image: The container image.
        labels: Extra labels for the pods.
        annotations: Annotations for the pods.
        count: How many pods run in parallel (also the number of completions needed).
        image_pull_policy: ``Always``, ``Never`` or ``IfNotPresent``.
        image_pull_secrets: Names of Secrets used to pull the image.
        restart: The pods' restart policy: ``Never`` (default) or ``OnFailure``.
        cmd: The container's command (replaces the image's entrypoint).
        env: Environment variables.
        cpu: CPU for requests and limits, e.g. ``"0.5"``.
        memory: Memory for requests and limits, e.g. ``"512Mi"``.
        volumes: Volumes to mount into the container.
        liveness_probe: When to restart the container.
        readiness_probe: When the container counts as ready.
    """

    image: str
    labels: Mapping[str, str] | None = None
    annotations: Mapping[str, str] | None = None
    count: int = 1
    image_pull_policy: PullPolicy | None = None
    image_pull_secrets: tuple[str, ...] | None = None
    restart: str = "Never"
    cmd: tuple[str, ...] | None = None
    env: tuple[EnvVar, ...] | None = None
    cpu: str | None = None
    memory: str | None = None
    volumes: tuple[Volume, ...] | None = None
    liveness_probe: HealthProbe | None = None
    readiness_probe: HealthProbe | None = None


@component(name="task", params=TaskParams, workload=JOB, health=health_of(task_status))
def task(p: TaskParams, ctx: ComponentContext) -> Obj:
    """Runs code or a script to completion (a Job).

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/component/task.cue.
    """
    # KubeVela's task accepts the probes and drops them; here they reach the container.
    spec = pod_spec(ctx.name, p, restart=p.restart)
    meta = pod_metadata(ctx.app_name, ctx.name, labels=p.labels, annotations=p.annotations)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": ctx.name},
        "spec": {
            "parallelism": p.count,
            "completions": p.count,
            "template": {"metadata": meta, "spec": spec},
        },
    }


@attrs.frozen(kw_only=True)
class CronTaskParams(Params):
    """Parameters of ``cron-task``.

    Attributes:
        schedule: When to run, in cron syntax (``"*/5 * * * *"``).
        image: The container image.
        labels: Extra labels for the jobs and their pods.
        annotations: Annotations for the jobs and their pods.
        starting_deadline_seconds: How late (seconds) a missed run may still start.
        suspend: Suspend future runs.
        concurrency_policy: ``Allow`` (default), ``Forbid`` or ``Replace`` a run still going.
        successful_jobs_history_limit: Finished jobs to keep.
        failed_jobs_history_limit: Failed jobs to keep.
        count: Pods per run, in parallel (also the completions needed).
        image_pull_policy: ``Always``, ``Never`` or ``IfNotPresent``.
        image_pull_secrets: Names of Secrets used to pull the image.
        restart: The pods' restart policy: ``Never`` (default) or ``OnFailure``.
        cmd: The container's command (replaces the image's entrypoint).
        env: Environment variables.
        cpu: CPU for requests and limits, e.g. ``"0.5"``.
        memory: Memory for requests and limits, e.g. ``"512Mi"``.
        volume_mounts: Volumes to mount, by kind.
        volumes: Deprecated volume list (ignored when ``volume_mounts`` is given).
        liveness_probe: When to restart the container.
        readiness_probe: When the container counts as ready.
        host_aliases: Extra /etc/hosts entries.
        ttl_seconds_after_finished: Delete a finished job after this many seconds.
        active_deadline_seconds: Stop a job that has run this many seconds.
        backoff_limit: Retries before a job counts as failed.
    """

    schedule: str
    image: str
    labels: Mapping[str, str] | None = None
    annotations: Mapping[str, str] | None = None
    starting_deadline_seconds: int | None = None
    suspend: bool = False
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = "Allow"
    successful_jobs_history_limit: int = 3
    failed_jobs_history_limit: int = 1
    count: int = 1
    image_pull_policy: PullPolicy | None = None
    image_pull_secrets: tuple[str, ...] | None = None
    restart: str = "Never"
    cmd: tuple[str, ...] | None = None
    env: tuple[EnvVar, ...] | None = None
    cpu: str | None = None
    memory: str | None = None
    volume_mounts: VolumeMounts | None = None
    volumes: tuple[Volume, ...] | None = None
    liveness_probe: HealthProbe | None = None
    readiness_probe: HealthProbe | None = None
    host_aliases: tuple[HostAlias, ...] | None = None
    ttl_seconds_after_finished: int | None = None
    active_deadline_seconds: int | None = None
    backoff_limit: int = 6


@component(name="cron-task", params=CronTaskParams, workload=CRON_JOB, health=health_of(always_healthy))
def cron_task(p: CronTaskParams, ctx: ComponentContext) -> Obj:
    """Runs code or a script to completion on a schedule (a batch/v1 CronJob).

    Follows KubeVela v1.10.1 vela-templates/definitions/internal/component/cron-task.cue
    (its Kubernetes >= 1.25 branch).
    """
    spec = pod_spec(ctx.name, p, restart=p.restart, volume_mounts=p.volume_mounts)
    if p.host_aliases is not None:  # after imagePullSecrets, where cron-task.cue puts it
        spec["hostAliases"] = host_aliases(p.host_aliases)
    job: dict[str, Any] = {"parallelism": p.count, "completions": p.count}
    if p.ttl_seconds_after_finished is not None:
        job["ttlSecondsAfterFinished"] = p.ttl_seconds_after_finished
    if p.active_deadline_seconds is not None:
        job["activeDeadlineSeconds"] = p.active_deadline_seconds
    job["backoffLimit"] = p.backoff_limit
    job["template"] = {
        "metadata": pod_metadata(ctx.app_name, ctx.name, labels=p.labels, annotations=p.annotations),
        "spec": spec,
    }
    cron: dict[str, Any] = {
        "schedule": p.schedule,
        "concurrencyPolicy": p.concurrency_policy,
        "suspend": p.suspend,
        "successfulJobsHistoryLimit": p.successful_jobs_history_limit,
        "failedJobsHistoryLimit": p.failed_jobs_history_limit,
    }
    if p.starting_deadline_seconds is not None:
        cron["startingDeadlineSeconds"] = p.starting_deadline_seconds
    cron["jobTemplate"] = {
        "metadata": pod_metadata(ctx.app_name, ctx.name, labels=p.labels, annotations=p.annotations),
        "spec": job,
    }
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": ctx.name}, "spec": cron}
