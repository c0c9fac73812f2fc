"""Build the bubblewrap command line for one sandbox (a grading run uses two: solution and tests).

Two modes, one filesystem view:

* not root: bwrap makes an unprivileged user namespace (``--unshare-user``), and RLIMIT_NPROC
  counts only processes inside that namespace;
* root (CI): RLIMIT_NPROC is never enforced for uid 0, and an unprivileged bwrap could not bind a
  Python that lives under ``/root``. So bwrap runs privileged, keeps only CAP_SETUID, CAP_SETGID
  and CAP_CHOWN, and the sandboxed process drops at once to a random unused uid (confine.py).
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys

from .result import SandboxLimits, SandboxUnavailable

# Random uids for root mode come from here: far above any distribution's or subuid's range, so
# no host process shares a sandbox's uid (and so its process count).
_UID_BASE, _UID_SPAN = 1_500_000_000, 500_000_000


def find_bwrap() -> str:
    """Return the bwrap path, or raise SandboxUnavailable (never run student code unisolated)."""
    path = shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap", "/bin/bwrap") if os.access(p, os.X_OK)), None)
    if path is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: apt-get install -y bubblewrap")
    return path


def sandbox_uid() -> int | None:
    """Return the uid a sandboxed process should drop to, or None when not running as root."""
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


def command(
    bwrap: str, files: dict[str, int], limits: SandboxLimits, module: str, config_json: str, uid: int | None,
    seccomp_fd: int | None,
) -> list[str]:
    """Return the argv that runs ``main()`` of an in-sandbox module under bwrap.

    Args:
        bwrap: Path of the bwrap binary.
        files: Read-only files to create, by path under ``/box``, each from a descriptor at offset 0.
        limits: Resource limits; only the scratch size is applied here, the rest inside.
        module: The module (under ``/box``) whose ``main()`` runs, e.g. ``_box.student_side``.
        config_json: Its configuration, in ``sys.argv[1]`` (no secrets: argv is not private).
        uid: Uid the process drops to (root mode), or None (user-namespace mode).
        seccomp_fd: Descriptor holding the seccomp filter, or None to run without one.
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
    for directory in sorted({os.path.dirname(p) for p in files}):
        for parent in [*_ancestors(directory), directory]:
            args += ["--perms", "0755", "--dir", parent]
    for path, fd in files.items():
        args += ["--perms", "0444", "--ro-bind-data", str(fd), path]
    args += ["--perms", "1777", "--size", str(limits.scratch_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    args += ["--remount-ro", "/", "--chdir", "/tmp"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    bootstrap = f"import sys; sys.path[:0] = ['/box']; from {module} import main; main()"
    args += [os.path.realpath(sys.executable), "-I", "-S", "-B", "-c", bootstrap, config_json]
    return args
