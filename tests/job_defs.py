"""A Job component twice over: updated in place (refused when its template changes) and
recreated on update; and a step that applies a component without waiting."""

from __future__ import annotations

import attrs

from pyvela import ComponentContext, ComponentName, Obj, StepContext, WorkloadType, component, step

JOB = WorkloadType(api_version="batch/v1", kind="Job")


@attrs.frozen(kw_only=True)
class JobParams:
    image: str


def _job(p: JobParams, ctx: ComponentContext) -> Obj:
    container = {"name": "main", "image": p.image, "command": ["true"]}
    template = {
        "metadata": {"labels": {"app": ctx.name}},
        "spec": {"restartPolicy": "Never", "containers": [container]},
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": ctx.name},
        "spec": {"template": template},
    }


@component(name="job", params=JobParams, workload=JOB)
def job(p: JobParams, ctx: ComponentContext) -> Obj:
    """A Job updated in place: a change to its template is refused."""
    return _job(p, ctx)


@component(name="recreated-job", params=JobParams, workload=JOB, update="recreate")
def recreated_job(p: JobParams, ctx: ComponentContext) -> Obj:
    """A Job deleted and created again when its template changes."""
    return _job(p, ctx)


@attrs.frozen(kw_only=True)
class ApplyOnly:
    component: ComponentName


@step(name="apply-only", params=ApplyOnly)
async def apply_only(p: ApplyOnly, ctx: StepContext) -> None:
    """Apply a component, without waiting for it."""
    await ctx.apply_component(p.component)
