"""Run untrusted student Python against trusted tests, each in its own bubblewrap sandbox."""

from .result import SandboxLimits, SandboxResult, SandboxUnavailable
from .runner import run_tests

__all__ = ["SandboxLimits", "SandboxResult", "SandboxUnavailable", "run_tests"]
