"""A workload whose pod template carries an invalid label is refused when it is written,
as a real API server refuses it, not later when the sandbox makes its Pods."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela.errors import ClusterError


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sb", settings=SandboxSettings(ready_delay=0.0)) as sb:
        yield sb


def _workload(api: str, kind: str, **template_meta: Any) -> dict[str, Any]:
    pod_spec: dict[str, Any] = {"containers": [{"name": "c", "image": "x"}]}
    if kind == "Job":
        pod_spec["restartPolicy"] = "Never"
    spec: dict[str, Any] = {"template": {"metadata": template_meta, "spec": pod_spec}}
    if kind != "Job":
        spec["selector"] = {"matchLabels": {"app": "w"}}
    return {"apiVersion": api, "kind": kind, "metadata": {"name": "w"}, "spec": spec}


KINDS = [("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("apps/v1", "DaemonSet"), ("batch/v1", "Job")]


@pytest.mark.parametrize(("api", "kind"), KINDS)
def test_an_invalid_template_label_key_refuses_the_workload_itself(
    sandbox: Sandbox, api: str, kind: str
) -> None:
    with pytest.raises(ClusterError) as caught:
        sandbox.apply(_workload(api, kind, labels={"app": "w", "a b": "c"}))
    assert caught.value.message.startswith(
        f'{kind} "w" is invalid: spec.template.metadata.labels: Invalid value: "a b": must be [prefix/]name'
    )
    assert sandbox.list(api, kind, "default") == []


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        ({"labels": {"app": "w", "k": "bad value"}}, "spec.template.metadata.labels[k]"),
        ({"labels": {"app": "w", "k": "x" * 64}}, "spec.template.metadata.labels[k]"),
        ({"labels": {"app": "w", "Bad_Prefix/k": "v"}}, "spec.template.metadata.labels"),
        ({"labels": {"app": "w"}, "annotations": {"not ok": "v"}}, "spec.template.metadata.annotations"),
    ],
)
def test_template_label_values_prefixes_and_annotation_keys_are_checked(
    sandbox: Sandbox, meta: dict[str, Any], field: str
) -> None:
    with pytest.raises(ClusterError, match=re.escape(f'Deployment "w" is invalid: {field}: Invalid')):
        sandbox.apply(_workload("apps/v1", "Deployment", **meta))


def test_valid_template_labels_and_cronjob_templates(sandbox: Sandbox) -> None:
    good = {"app": "w", "example.com/tier": "web", "empty": "", "a_b.c-d": "X.y_z-1"}
    assert sandbox.apply(_workload("apps/v1", "Deployment", labels=good))["metadata"]["name"] == "w"
    job = _workload("batch/v1", "Job", labels={"a b": "c"})
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "c"},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": job["spec"]}},
    }
    with pytest.raises(ClusterError, match=r"spec\.jobTemplate\.spec\.template\.metadata\.labels: Invalid"):
        sandbox.apply(cron)
