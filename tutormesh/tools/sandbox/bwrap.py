"""Build the bubblewrap command line that isolates one grading run.

Two modes, one filesystem view:

* not root: bwrap makes an unprivileged user namespace (``--unshare-user``), and the harness's
  RLIMIT_NPROC counts only processes inside that namespace;
* root (CI): RLIMIT_NPROC is never enforced for uid 0, and an unprivileged bwrap could not bind a
  Python that lives under ``/root``. So bwrap runs privileged, keeps only CAP_SETUID, CAP_SETGID
  and CAP_CHOWN for the harness, and the harness drops at once to a random unused uid.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from dataclasses import dataclass

from .result import SandboxLimits, SandboxUnavailable

# Random uids for root mode come from here: far above any distribution's or subuid's range, so
# no host process shares a sandbox's uid (and so its process count).
_UID_BASE, _UID_SPAN = 1_500_000_000, 500_000_000


@dataclass(frozen=True)
class Layout:
    """File descriptors bwrap copies into the sandbox (all readable from offset 0)."""

    solution_fd: int
    tests_fd: int
    harness_fd: int
    seccomp_fd: int | None


def find_bwrap() -> str:
    """Return the bwrap path, or raise SandboxUnavailable (never run student code unisolated)."""
    path = shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap", "/bin/bwrap") if os.access(p, os.X_OK)), None)
    if path is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: apt-get install -y bubblewrap")
    return path


def sandbox_uid() -> int | None:
    """Return the uid the harness should drop to, or None when not running as root."""
    if os.geteuid() != 0:
        return None
    return _UID_BASE + secrets.randbelow(_UID_SPAN)


def _system_binds() -> list[str]:
    """Read-only binds for the interpreter and its shared libraries; nothing from /etc or home."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib64", "lib32", "libx32"):
        path = f"/{top}"
        if os.path.islink(path):  # merged /usr: /lib -> usr/lib
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    roots: list[str] = []
    for path in (os.path.realpath(sys.base_prefix), os.path.dirname(os.path.realpath(sys.executable))):
        if not path.startswith("/usr/") and not any(path.startswith(r + "/") for r in roots):
            roots.append(path)
    for path in roots:
        parents = [p for p in _ancestors(path) if not p.startswith("/usr")]
        for parent in parents:  # bwrap would create them 0700, unreadable after the uid drop
            args += ["--perms", "0755", "--dir", parent]
        args += ["--ro-bind", path, path]
    return args


def _ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def command(bwrap: str, layout: Layout, limits: SandboxLimits, config_json: str, uid: int | None) -> list[str]:
    """Return the argv that runs the harness under bwrap.

    Args:
        bwrap: Path of the bwrap binary.
        layout: Descriptors holding the files to place under ``/box``.
        limits: Resource limits; only the scratch size is applied here, the rest by the harness.
        config_json: The harness's configuration (no secrets: argv is not private).
        uid: Uid the harness drops to (root mode), or None (user-namespace mode).
    """
    args = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    args += ["--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
    if uid is None:
        args += ["--unshare-user", "--disable-userns"]
    else:
        for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN"):
            args += ["--cap-add", cap]
    args += _system_binds()
    args += ["--dev", "/dev"]
    args += ["--perms", "0444", "--ro-bind-data", str(layout.solution_fd), "/box/solution.py"]
    args += ["--perms", "0444", "--ro-bind-data", str(layout.tests_fd), "/box/tests.py"]
    args += ["--perms", "0444", "--ro-bind-data", str(layout.harness_fd), "/box/harness.py"]
    args += ["--perms", "1777", "--size", str(limits.scratch_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    args += ["--remount-ro", "/", "--chdir", "/tmp"]
    if layout.seccomp_fd is not None:
        args += ["--seccomp", str(layout.seccomp_fd)]
    args += [os.path.realpath(sys.executable), "-I", "-S", "-B", "/box/harness.py", config_json]
    return args
