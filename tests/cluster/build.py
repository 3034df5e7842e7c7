"""Build the binaries of the pyvela test control plane from upstream Go modules.

Everything is compiled from the Go module proxy; nothing from upstream is kept
in this repository except the go.mod/go.sum pins of the tiny wrapper modules
next to this file:

* ``kube/``  -- one multi-call binary: kube-apiserver, kube-controller-manager,
  kube-scheduler (k8s.io/kubernetes, staging modules pinned by ``genmod.py``)
* ``etcd/``  -- go.etcd.io/etcd/server/v3/etcdmain
* ``kwok/``  -- sigs.k8s.io/kwok/cmd/kwok (go.mod ``tool`` directive)
* ``helm/``  -- helm.sh/helm/v4/cmd/helm (go.mod ``tool`` directive)
* Argo Rollouts (``ROLLOUTS_MODULE`` below) -- its go.mod has replace
  directives, so it is built as the main module from a writable copy of its
  module-cache directory, made inside the build directory.

Data files the launcher needs at run time (kwok's stage configuration and the
Argo Rollouts CRDs) are copied from the module cache into the build directory,
so running the control plane needs neither Go nor the module cache.

The result lives in ``<cache root>/<key>/`` where key hashes the wrapper
modules, this file and ``go version``.  Cache root: ``$PYVELA_TESTCLUSTER_CACHE``
or ``~/.cache/pyvela/testcluster``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Argo Rollouts: newest release whose go.mod `go` line this toolchain accepts
# (v1.10.2 asks for go >= 1.26.10).
ROLLOUTS_MODULE = "github.com/argoproj/argo-rollouts"
ROLLOUTS_VERSION = "v1.10.1"
# The controller hard-codes its metrics/healthz listen address as 0.0.0.0; the
# build copy is patched to bind loopback only (tests must bind nothing else).
ROLLOUTS_PATCHES = [
    ("controller/controller.go", 'listenAddr                         = "0.0.0.0:%d"',
     'listenAddr                         = "127.0.0.1:%d"'),
]

# kwok stage sets (directories under kustomize/stage of the kwok module), the
# same set as kwok's own "fast" kustomization.
KWOK_STAGE_DIRS = ["node/fast", "node/heartbeat-with-lease", "pod/fast"]

BINARIES = ["kube", "etcd", "kwok", "helm", "rollouts-controller"]
MANIFEST = "manifest.json"


class BuildError(RuntimeError):
    pass


def cache_root() -> Path:
    env = os.environ.get("PYVELA_TESTCLUSTER_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "pyvela" / "testcluster"


def find_go() -> str | None:
    go = shutil.which("go")
    if go:
        return go
    for cand in ("/usr/local/go/bin/go", "/usr/lib/go/bin/go"):
        if os.access(cand, os.X_OK):
            return cand
    return None


def go_version(go: str) -> str:
    return subprocess.run([go, "env", "GOVERSION"], check=True, capture_output=True,
                          text=True).stdout.strip()


def _key_files() -> list[Path]:
    files = [Path(__file__).resolve()]
    for sub in ("kube", "etcd", "kwok", "helm"):
        for p in sorted((HERE / sub).iterdir()):
            if p.suffix in (".go", ".mod", ".sum") or p.name in ("go.mod", "go.sum"):
                files.append(p)
    return files


def cache_key(go: str) -> str:
    h = hashlib.sha256()
    h.update(go_version(go).encode())
    h.update(f"{sys.platform}-{os.uname().machine}".encode())
    for p in _key_files():
        h.update(str(p.relative_to(HERE.parent)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


def build_dir(go: str | None = None) -> Path:
    go = go or find_go()
    if go is None:
        raise BuildError("Go toolchain not found (need `go` on PATH or /usr/local/go/bin/go)")
    return cache_root() / cache_key(go)


def is_built(path: Path) -> bool:
    return (path / MANIFEST).is_file() and all((path / "bin" / b).is_file() for b in BINARIES)


def _module_require(gomod: Path, module: str) -> str:
    m = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", gomod.read_text(), re.M)
    if not m:
        raise BuildError(f"{module} not required in {gomod}")
    return m.group(1)


@dataclass
class _Step:
    name: str
    seconds: float


class Builder:
    def __init__(self, go: str, out: Path, jobs: int = 2, log=print) -> None:
        self.go = go
        self.out = out
        self.jobs = jobs
        self.log = log
        self.steps: list[_Step] = []
        self.env = dict(os.environ, CGO_ENABLED="0", GOTOOLCHAIN="local", GOWORK="off")
        # keep the caller's GOFLAGS out of the picture (e.g. -mod=vendor)
        self.env.pop("GOFLAGS", None)

    def _run(self, args: list[str], cwd: Path) -> str:
        self.log(f"$ (cd {cwd} && {' '.join(args)})")
        proc = subprocess.run(args, cwd=cwd, env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        if proc.stdout.strip():
            self.log(proc.stdout.rstrip())
        if proc.returncode != 0:
            raise BuildError(f"command failed ({proc.returncode}): {' '.join(args)}")
        return proc.stdout

    def _mod_dir(self, cwd: Path, module: str) -> str:
        return self._run([self.go, "list", "-m", "-f", "{{.Dir}}", module], cwd).strip().splitlines()[-1]

    def _gobuild(self, name: str, cwd: Path, pkg: str, ldflags: list[str]) -> None:
        t0 = time.monotonic()
        self._run([self.go, "mod", "download"], cwd)
        self._run([self.go, "build", "-p", str(self.jobs), "-trimpath", "-buildvcs=false",
                   "-ldflags", " ".join(["-s", "-w", *ldflags]),
                   "-o", str(self.out / "bin" / name), pkg], cwd)
        dt = time.monotonic() - t0
        self.steps.append(_Step(name, dt))
        self.log(f"== built {name} in {dt:.0f}s")

    def kube(self) -> str:
        cwd = HERE / "kube"
        version = _module_require(cwd / "go.mod", "k8s.io/kubernetes")
        major, minor = version.lstrip("v").split(".")[:2]
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        ldflags = []
        for key, val in (("gitVersion", version), ("gitMajor", major), ("gitMinor", minor),
                         ("gitTreeState", "clean"), ("buildDate", date)):
            for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
                ldflags.append(f"-X {pkg}.{key}={val}")
        self._gobuild("kube", cwd, ".", ldflags)
        return version

    def etcd(self) -> str:
        cwd = HERE / "etcd"
        self._gobuild("etcd", cwd, ".", [])
        return _module_require(cwd / "go.mod", "go.etcd.io/etcd/server/v3")

    def kwok(self) -> str:
        cwd = HERE / "kwok"
        version = _module_require(cwd / "go.mod", "sigs.k8s.io/kwok")
        self._gobuild("kwok", cwd, "sigs.k8s.io/kwok/cmd/kwok", [])
        # stage configuration shipped in the kwok module -> one multi-doc file
        moddir = Path(self._mod_dir(cwd, "sigs.k8s.io/kwok"))
        docs = []
        for d in KWOK_STAGE_DIRS:
            kdir = moddir / "kustomize" / "stage" / d
            resources = re.findall(r"^-\s*(\S+\.yaml)\s*$", (kdir / "kustomization.yaml").read_text(), re.M)
            if not resources:
                raise BuildError(f"no resources in {kdir}/kustomization.yaml")
            for r in resources:
                docs.append((kdir / r).read_text().strip() + "\n")
        (self.out / "kwok-stages.yaml").write_text("---\n".join(docs))
        return version

    def helm(self) -> str:
        cwd = HERE / "helm"
        version = _module_require(cwd / "go.mod", "helm.sh/helm/v4")
        self._gobuild("helm", cwd, "helm.sh/helm/v4/cmd/helm",
                      [f"-X helm.sh/helm/v4/internal/version.version={version}",
                       "-X helm.sh/helm/v4/internal/version.gitTreeState=clean"])
        return version

    def rollouts(self) -> str:
        # Download through the wrapper-less path: `go mod download -json mod@ver`
        info = json.loads(self._run([self.go, "mod", "download", "-json",
                                     f"{ROLLOUTS_MODULE}@{ROLLOUTS_VERSION}"], HERE))
        src = self.out / "src" / f"argo-rollouts@{ROLLOUTS_VERSION}"
        if src.exists():
            shutil.rmtree(src)
        shutil.copytree(info["Dir"], src, symlinks=True)
        for root, dirs, files in os.walk(src):
            for n in dirs + files:
                p = os.path.join(root, n)
                if not os.path.islink(p):
                    os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR)
        for rel, old, new in ROLLOUTS_PATCHES:
            f = src / rel
            text = f.read_text()
            if old not in text:
                raise BuildError(f"argo-rollouts patch no longer applies to {rel}: {old!r}")
            f.write_text(text.replace(old, new))
        self._gobuild("rollouts-controller", src, "./cmd/rollouts-controller",
                      [f"-X {ROLLOUTS_MODULE}/utils/version.version={ROLLOUTS_VERSION.lstrip('v')}",
                       f"-X {ROLLOUTS_MODULE}/utils/version.gitTreeState=clean"])
        crds = self.out / "rollouts-crds"
        crds.mkdir(exist_ok=True)
        for f in sorted((src / "manifests" / "crds").glob("*-crd.yaml")):
            shutil.copy(f, crds / f.name)
        shutil.rmtree(src)
        shutil.rmtree(self.out / "src", ignore_errors=True)
        return ROLLOUTS_VERSION


def build(force: bool = False, jobs: int = 2, log=print) -> Path:
    """Build everything into the cache directory; return it.  No-op when warm."""
    go = find_go()
    if go is None:
        raise BuildError("Go toolchain not found: install Go >= 1.26 (https://go.dev/dl) "
                         "or put it on PATH")
    final = build_dir(go)
    if is_built(final) and not force:
        log(f"testcluster: up to date: {final}")
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f"{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "bin").mkdir(parents=True)
    b = Builder(go, tmp, jobs=jobs, log=log)
    t0 = time.monotonic()
    versions = {
        "go": go_version(go),
        "etcd": b.etcd(),
        "kubernetes": b.kube(),
        "kwok": b.kwok(),
        "helm": b.helm(),
        "argo-rollouts": b.rollouts(),
    }
    total = time.monotonic() - t0
    manifest = {
        "versions": versions,
        "built_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": {s.name: round(s.seconds, 1) for s in b.steps},
        "total_seconds": round(total, 1),
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    if final.exists() and not is_built(final):
        shutil.rmtree(final)
    try:
        os.replace(tmp, final)
    except OSError:
        if not is_built(final):  # a concurrent build finished first: keep that one
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"testcluster: built in {total:.0f}s -> {final}")
    prune(log=log)
    return final


def _paths_in_use() -> list[str]:
    cmds = []
    for p in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            cmds.append(p.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            pass
    return cmds


def prune(keep: int = 3, log=print) -> None:
    """Remove all but the ``keep`` newest builds, and temp dirs of dead builds."""
    root = cache_root()
    if not root.is_dir():
        return
    builds = sorted((d for d in root.iterdir() if re.fullmatch(r"[0-9a-f]{16}", d.name) and d.is_dir()),
                    key=lambda d: d.stat().st_mtime, reverse=True)
    in_use = _paths_in_use()
    for d in builds[keep:]:
        if any(str(d) in cmd for cmd in in_use):
            continue  # a running control plane uses these binaries
        log(f"testcluster: pruning old build {d}")
        shutil.rmtree(d, ignore_errors=True)
    for d in root.glob("*.tmp-*"):
        try:
            os.kill(int(d.name.rsplit("-", 1)[1]), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except (ValueError, PermissionError):
            pass


def read_manifest(path: Path) -> dict:
    return json.loads((path / MANIFEST).read_text())
