"""The sandbox's public value types: resource limits in, a graded result out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VERDICTS = ("passed", "failed", "error", "timeout", "memory", "killed", "no_tests", "tests_error")


class SandboxUnavailable(RuntimeError):
    """The isolation the sandbox needs (bubblewrap, namespaces) is missing: nothing was run."""


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one ``run_tests`` call.

    Attributes:
        wall_seconds: Wall-clock budget for the whole run (all tests together).
        cpu_seconds: CPU seconds per test process (RLIMIT_CPU).
        memory_mb: Address space per process (RLIMIT_AS).
        max_processes: Processes the sandbox uid may hold at once (RLIMIT_NPROC).
        max_file_mb: Largest file a process may write (RLIMIT_FSIZE).
        scratch_mb: Size of the private tmpfs that is the only writable directory.
        max_open_files: Open descriptors per process (RLIMIT_NOFILE).
        call_seconds: Wall-clock limit on one call from the tests into the solution (and its import).
        max_return_kb: Largest reply one call may send back, in KiB of its JSON form.
    """

    wall_seconds: float = 10.0
    cpu_seconds: int = 5
    memory_mb: int = 256
    max_processes: int = 32
    max_file_mb: int = 8
    scratch_mb: int = 16
    max_open_files: int = 64
    call_seconds: float = 5.0
    max_return_kb: int = 1024


@dataclass(frozen=True)
class SandboxResult:
    """What happened when the tests ran against the solution.

    Attributes:
        passed: Tests that returned normally.
        failed: Tests that did not (including ones never run because the budget ran out).
        verdict: One of ``VERDICTS``.
        tests: Per test ``{"name", "passed", "message"}``, in file order. The message is what the
            student may see: ``failed`` unless the teacher marked the test visible.
        wall_ms: Time from the call to the verdict.
        detail: A sentence for the student or teacher.
    """

    passed: int
    failed: int
    verdict: str
    tests: list[dict[str, Any]] = field(default_factory=list)
    wall_ms: float = 0.0
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict of every field."""
        return {
            "passed": self.passed,
            "failed": self.failed,
            "verdict": self.verdict,
            "tests": [dict(t) for t in self.tests],
            "wall_ms": round(self.wall_ms, 1),
            "detail": self.detail,
        }
