"""Several processes sharing one sandbox: concurrent writes, waits that see other processes' writes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from pyvela._backends import readiness as rules
from pyvela._backends.sandbox import Sandbox, SandboxSettings
from pyvela._core.objects import ObjectRef

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pyvela._core.objects import ObjectRef
    from pyvela._backends.sandbox import Sandbox, SandboxSettings

    root, tag, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    with Sandbox(root, settings=SandboxSettings(ready_delay=0)) as sb:
        shared = ObjectRef("v1", "ConfigMap", "default", "counter")
        for i in range(count):
            sb.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{tag}-{i}"},
                      "data": {"i": str(i)}})
            sb.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"{tag}-{i}"},
                      "spec": {"ports": [{"port": 80}]}})
            while True:  # a read-modify-replace loop on one shared object
                live = sb.get(shared)
                if live is None:
                    try:
                        sb.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "counter"},
                                   "data": {"n": "1"}})
                        break
                    except Exception as exc:
                        if type(exc).__name__ != "AlreadyExistsError":
                            raise
                        continue
                live["data"]["n"] = str(int(live["data"]["n"]) + 1)
                try:
                    sb.replace(live)
                    break
                except Exception as exc:
                    if type(exc).__name__ != "ConflictError":
                        raise
    """
)


def spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_writing_at_once(tmp_path: Path) -> None:
    root = tmp_path / "sb"
    with Sandbox(root, settings=SandboxSettings(ready_delay=0)):
        pass  # create it first, so both writers open an existing database
    count = 100
    procs = [spawn(WRITER, str(root), tag, str(count)) for tag in ("a", "b")]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with Sandbox(root, settings=SandboxSettings(ready_delay=0)) as sb:
        maps = sb.list("v1", "ConfigMap")
        services = sb.list("v1", "Service")
        counter = sb.get(ObjectRef("v1", "ConfigMap", "default", "counter"))
    assert len(maps) == 2 * count + 1
    assert counter is not None and counter["data"]["n"] == str(2 * count)  # no lost update
    ips = [s["spec"]["clusterIP"] for s in services]
    assert len(ips) == 2 * count and len(set(ips)) == len(ips)
    versions = [int(o["metadata"]["resourceVersion"]) for o in [*maps, *services]]
    assert len(set(versions)) == len(versions)


def test_two_processes_creating_the_same_sandbox(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    procs = [spawn(WRITER, str(root), tag, "3") for tag in ("a", "b", "c")]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with Sandbox(root, settings=SandboxSettings(ready_delay=0)) as sb:
        names = [ns["metadata"]["name"] for ns in sb.list("v1", "Namespace")]
        assert names.count("default") == 1
        assert len(sb.list("v1", "ConfigMap")) == 10


APPLY_LATER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pyvela._backends.sandbox import Sandbox, SandboxSettings

    time.sleep(0.3)
    with Sandbox(Path(sys.argv[1]), settings=SandboxSettings(ready_delay=0)) as sb:
        sb.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-elsewhere"}})
    """
)


def test_wait_sees_a_write_from_another_process(tmp_path: Path) -> None:
    root = tmp_path / "sb"
    with Sandbox(root, settings=SandboxSettings(ready_delay=0)) as sb:
        proc = spawn(APPLY_LATER, str(root))
        try:
            start = time.monotonic()
            live = sb.wait(
                ObjectRef("v1", "ConfigMap", "default", "from-elsewhere"), rules.generic, timeout=60
            )
        finally:
            _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert live["metadata"]["name"] == "from-elsewhere"
        assert time.monotonic() - start < 50
