"""Sandbox settings (``<root>/sandbox.yaml`` and the environment) and per-object simulation knobs.

``<root>/sandbox.yaml`` (every key optional)::

    ready_delay: 1.0            # seconds for a workload to become fully ready
    fail_images:                # glob patterns of images that never pull
      - "*does-not-exist*"
    nodes: 1                    # fake nodes (a DaemonSet wants one pod per node)
    honour_pauses: false        # a Rollout update pauses at a canary `pause: {}` step

``PYVELA_SANDBOX_DELAY`` (seconds) overrides ``ready_delay``.

Per-object annotations override the settings for that object:

- ``sandbox.pyvela.dev/ready-after: "2.5"``: seconds until it is ready;
- ``sandbox.pyvela.dev/fail: ImagePullBackOff | JobFailed | Degraded | Failed``: it never
  becomes ready. ``ImagePullBackOff`` keeps its pods unready (a Deployment then fails on
  ``spec.progressDeadlineSeconds``, a Rollout goes Degraded on it); the others make a Job
  fail (BackoffLimitExceeded), a Rollout go Degraded, a HelmRelease go ``failed`` and a Pod
  fail, after the ready delay.
"""

from __future__ import annotations

import fnmatch
import functools
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from pyvela.errors import ClusterError, Location

ANNOTATION_READY_AFTER = "sandbox.pyvela.dev/ready-after"
ANNOTATION_FAIL = "sandbox.pyvela.dev/fail"
FAIL_MODES = ("ImagePullBackOff", "JobFailed", "Degraded", "Failed")
ENV_DELAY = "PYVELA_SANDBOX_DELAY"
SETTINGS_FILE = "sandbox.yaml"


def _delay(value: Any, where: str) -> float:
    try:
        delay = float(value)
    except (TypeError, ValueError):
        delay = math.nan
    if not math.isfinite(delay) or delay < 0 or isinstance(value, bool):
        raise ClusterError(
            f"{where} must be a number of seconds >= 0", expected="a number such as 2.5", got=repr(value)
        )
    return delay


def _parse_error(path: Path, exc: yaml.YAMLError) -> ClusterError:
    """The YAML error at its file:line (PyYAML counts lines from 0), without PyYAML's echo of the text."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    what = f"{context}, {problem}" if context else str(problem)
    return ClusterError(
        f"the sandbox settings are not valid YAML: {what}",
        where=Location(str(path), line),
        file=str(path),
        fix="correct the YAML (keys: ready_delay, fail_images, nodes, honour_pauses)",
    )


@attrs.frozen(kw_only=True)
class SandboxSettings:
    """How the sandbox's simulated controllers behave.

    Attributes:
        ready_delay: Seconds a workload takes to become fully ready (replicas become
            ready one at a time over it).
        fail_images: Glob patterns of images that never pull.
        nodes: Number of fake nodes (the pods a DaemonSet wants).
        honour_pauses: A Rollout update stops at an indefinite canary ``pause: {}`` step
            (phase Paused, message CanaryPauseStep) instead of going straight to Healthy.
    """

    ready_delay: float = 1.0
    fail_images: tuple[str, ...] = ("*does-not-exist*",)
    nodes: int = 1
    honour_pauses: bool = False

    @classmethod
    def load(cls, root: Path, environ: Mapping[str, str] | None = None) -> SandboxSettings:
        """Settings from ``<root>/sandbox.yaml`` (if present), then the environment."""
        env = os.environ if environ is None else environ
        data: dict[str, Any] = {}
        path = root / SETTINGS_FILE
        if path.is_file():
            try:
                loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raise _parse_error(path, exc) from exc
            except (OSError, UnicodeDecodeError) as exc:
                raise ClusterError(f"cannot read the sandbox settings {path}: {exc}", file=str(path)) from exc
            if loaded is not None and not isinstance(loaded, dict):
                raise ClusterError("the sandbox settings must be a mapping", file=str(path), got=repr(loaded))
            data = dict(loaded or {})
        unknown = sorted(set(data) - {"ready_delay", "fail_images", "nodes", "honour_pauses"})
        if unknown:
            raise ClusterError(
                f"unknown sandbox settings: {', '.join(map(str, unknown))}",
                file=str(path),
                expected="ready_delay, fail_images, nodes, honour_pauses",
            )
        kwargs: dict[str, Any] = {}
        if "ready_delay" in data:
            kwargs["ready_delay"] = _delay(data["ready_delay"], f"ready_delay in {path}")
        if "fail_images" in data:
            images = data["fail_images"]
            if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
                raise ClusterError("fail_images must be a list of globs", file=str(path), got=repr(images))
            kwargs["fail_images"] = tuple(images)
        if "nodes" in data:
            nodes = data["nodes"]
            if not isinstance(nodes, int) or isinstance(nodes, bool) or nodes < 0:
                raise ClusterError("nodes must be an integer >= 0", file=str(path), got=repr(nodes))
            kwargs["nodes"] = nodes
        if "honour_pauses" in data:
            kwargs["honour_pauses"] = bool(data["honour_pauses"])
        if env.get(ENV_DELAY):
            kwargs["ready_delay"] = _delay(env[ENV_DELAY], ENV_DELAY)
        return cls(**kwargs)


@attrs.frozen(kw_only=True)
class Sim:
    """The simulation parameters of one object, fixed when it is written (stored with it)."""

    delay: float
    fail: str | None = None
    nodes: int = 1
    honour_pauses: bool = False

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Sim:
        if not isinstance(data, dict):
            return cls(delay=0.0)
        fail = data.get("fail")
        return cls(
            delay=float(data.get("delay", 0.0)),
            fail=fail if isinstance(fail, str) else None,
            nodes=int(data.get("nodes", 1)),
            honour_pauses=bool(data.get("honour_pauses", False)),
        )


@functools.lru_cache(maxsize=1024)
def _never_pulls(image: str, patterns: tuple[str, ...]) -> bool:
    """Whether ``image`` matches a failing glob (asked for every object: an app has few images)."""
    return any(fnmatch.fnmatchcase(image, pattern) for pattern in patterns)


def _images(obj: Mapping[str, Any]) -> list[str]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    pod_specs = [spec]
    for path in (("template",), ("jobTemplate", "spec", "template")):
        cur: Any = spec
        for key in path:
            cur = cur.get(key) if isinstance(cur, dict) else None
        if isinstance(cur, dict) and isinstance(cur.get("spec"), dict):
            pod_specs.append(cur["spec"])
    images = []
    for pod_spec in pod_specs:
        for field in ("initContainers", "containers"):
            containers = pod_spec.get(field)
            for container in containers if isinstance(containers, list) else []:
                if isinstance(container, dict) and isinstance(container.get("image"), str):
                    images.append(container["image"])
    return images


def sim_for(obj: Mapping[str, Any], settings: SandboxSettings) -> Sim:
    """The simulation parameters of ``obj`` (annotations override settings); ClusterError on bad ones."""
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    annotations = annotations if isinstance(annotations, dict) else {}
    delay = settings.ready_delay
    if ANNOTATION_READY_AFTER in annotations:
        delay = _delay(annotations[ANNOTATION_READY_AFTER], f"annotation {ANNOTATION_READY_AFTER}")
    fail = annotations.get(ANNOTATION_FAIL)
    if fail is not None and fail not in FAIL_MODES:
        raise ClusterError(
            f"annotation {ANNOTATION_FAIL} names no failure the sandbox simulates",
            expected=" | ".join(FAIL_MODES),
            got=repr(fail),
        )
    if fail is None and any(_never_pulls(image, settings.fail_images) for image in _images(obj)):
        fail = "ImagePullBackOff"
    return Sim(delay=delay, fail=fail, nodes=settings.nodes, honour_pauses=settings.honour_pauses)
