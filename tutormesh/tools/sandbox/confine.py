"""First steps of each process started inside a sandbox, before any code it was given runs (stdlib only)."""

from __future__ import annotations

import os
import resource
import time

SCRATCH = "/tmp"
MB = 1024 * 1024


def set_limit(which: int, value: int) -> None:
    """Set both the soft and the hard limit, so the process cannot raise it again."""
    resource.setrlimit(which, (value, value))


def enter(keep: set[int], uid: int | None, max_processes: int) -> None:
    """Close every inherited descriptor but ``keep``, become ``uid`` (root mode), limit processes.

    Standard input and output become /dev/null: nothing printed inside a sandbox is ever read.
    """
    for fd in range(3, 1024):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    if uid is not None:
        # Root mode: an otherwise unused uid, so RLIMIT_NPROC is enforced and no capability is left.
        os.chown(SCRATCH, uid, uid)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    set_limit(resource.RLIMIT_NPROC, max_processes)
    set_limit(resource.RLIMIT_CORE, 0)


def limit_process(cpu_seconds: int, memory_mb: int, max_file_mb: int, max_open_files: int) -> None:
    """Apply the per-process limits: CPU time, address space, file size, open descriptors."""
    set_limit(resource.RLIMIT_CPU, cpu_seconds)
    set_limit(resource.RLIMIT_AS, memory_mb * MB)
    set_limit(resource.RLIMIT_FSIZE, max_file_mb * MB)
    set_limit(resource.RLIMIT_NOFILE, max_open_files)


def kill_others() -> None:
    """Kill every process in this pid namespace except init and the caller, and reap them.

    Loops until kill(-1) finds nobody: a zombie still counts until it is reaped, by the caller
    (its own children, waited for here) or by init (anything reparented to it).
    """
    for attempt in range(1000):  # about 2 s at most; normally the second pass finds nobody
        try:
            os.kill(-1, 9)
        except ProcessLookupError:
            return
        try:
            while os.waitpid(-1, 0)[0] > 0:
                pass
        except ChildProcessError:
            pass
        if attempt:  # what is left was reparented to init: give it a moment to reap them
            time.sleep(0.002)
