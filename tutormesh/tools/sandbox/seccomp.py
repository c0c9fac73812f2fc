"""A small seccomp-BPF deny list, assembled by hand so no libseccomp binding is needed.

bubblewrap loads it (``--seccomp FD``) just before it starts the sandboxed process, so it binds it
and every student process. It closes the routes from one sandboxed process into another's memory
or file descriptors (ptrace, process_vm_*, pidfd_getfd, kcmp), new namespaces (a nested user
namespace would hand the student capabilities), and kernel interfaces a grader never needs.
"""

from __future__ import annotations

import platform
import struct

_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_KILL_PROCESS = 0x80000000
_EPERM, _ENOSYS = 1, 38
_X32_BIT = 0x40000000
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
_CLONE_NS_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000

# name, x86_64 number, aarch64 number (from the kernel's syscall tables)
_SYSCALLS = """
ptrace 101 117
process_vm_readv 310 270
process_vm_writev 311 271
kcmp 312 272
pidfd_getfd 438 438
bpf 321 280
perf_event_open 298 241
userfaultfd 323 282
keyctl 250 219
add_key 248 217
request_key 249 218
io_uring_setup 425 425
io_uring_enter 426 426
io_uring_register 427 427
unshare 272 97
setns 308 268
mount 165 40
umount2 166 39
pivot_root 155 41
chroot 161 51
open_by_handle_at 304 265
clone 56 220
clone3 435 435
"""
_ROWS = [line.split() for line in _SYSCALLS.strip().splitlines()]
_DENIED = [row[0] for row in _ROWS if row[0] not in ("clone", "clone3")]
# AUDIT_ARCH value and syscall numbers per machine; other machines run without the filter.
_ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (0xC000003E, {row[0]: int(row[1]) for row in _ROWS}),
    "aarch64": (0xC00000B7, {row[0]: int(row[2]) for row in _ROWS}),
}


def build_filter(machine: str | None = None) -> bytes | None:
    """Return the filter as raw ``struct sock_filter`` records, or None on an unknown machine.

    Args:
        machine: ``platform.machine()`` value to build for; the running machine by default.
    """
    arch = _ARCHES.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, numbers = arch
    # Instructions as (code, jt, jf, k); jumps use labels resolved below.
    prog: list[tuple[int, int | str, int | str, int]] = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ_K, 0, "kill", audit_arch),
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
    ]
    if audit_arch == 0xC000003E:
        prog.append((_JGE_K, "deny", 0, _X32_BIT))  # x32 numbers would slip past the list
    prog += [(_JEQ_K, "deny", 0, numbers[name]) for name in _DENIED]
    prog += [
        (_JEQ_K, "clone", 0, numbers["clone"]),
        (_JEQ_K, "enosys", 0, numbers["clone3"]),  # flags sit behind a pointer; glibc falls back
        (_RET_K, 0, 0, _ALLOW),
    ]
    labels = {"clone": len(prog)}
    prog += [
        (_LD_W_ABS, 0, 0, 16),  # low half of args[0], the clone flags
        (_JSET_K, "deny", 0, _CLONE_NS_FLAGS),
        (_RET_K, 0, 0, _ALLOW),
    ]
    labels["deny"] = len(prog)
    prog.append((_RET_K, 0, 0, _ERRNO | _EPERM))
    labels["enosys"] = len(prog)
    prog.append((_RET_K, 0, 0, _ERRNO | _ENOSYS))
    labels["kill"] = len(prog)
    prog.append((_RET_K, 0, 0, _KILL_PROCESS))

    out = bytearray()
    for index, (code, jt, jf, k) in enumerate(prog):
        jt_off = labels[jt] - index - 1 if isinstance(jt, str) else jt
        jf_off = labels[jf] - index - 1 if isinstance(jf, str) else jf
        out += struct.pack("<HBBI", code, jt_off, jf_off, k)
    return bytes(out)
