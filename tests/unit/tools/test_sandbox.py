"""The sandbox grades honest code correctly and contains hostile code (needs bubblewrap)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path

import pytest

from tests.conftest import service_missing
from tutormesh.tools.sandbox import SandboxLimits, SandboxResult, SandboxUnavailable, run_tests
from tutormesh.tools.sandbox import bwrap as sandbox_bwrap

FAST = SandboxLimits(wall_seconds=4.0, cpu_seconds=2, memory_mb=128)
ADD = "def add(a, b):\n    return a + b\n"
ADD_TESTS = "from solution import add\n\ndef test_small():\n    assert add(1, 2) == 3\n"
# A test that only a real, correct add() passes: every tampering case below must fail it.
STRICT_TESTS = "from solution import add\n\ndef test_add():\n    assert add(2, 2) == 5\n"


@pytest.fixture(autouse=True)
def _needs_bwrap() -> None:
    if shutil.which("bwrap") is None:
        service_missing("bubblewrap (apt-get install -y bubblewrap)", FileNotFoundError("bwrap"))


def _run(solution: str, tests: str, limits: SandboxLimits = FAST) -> SandboxResult:
    return run_tests(solution, tests, limits=limits)


def _sandbox_uids_alive() -> list[int]:
    """Pids on the host owned by a root-mode sandbox uid (they must all be gone after a run)."""
    alive = []
    for entry in Path("/proc").iterdir():
        try:
            uid_line = next(x for x in (entry / "status").read_text().splitlines() if x.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if int(uid_line.split()[1]) >= sandbox_bwrap._UID_BASE:
            alive.append(int(entry.name))
    return alive


# --- honest programs -----------------------------------------------------------------------------


def test_all_tests_pass() -> None:
    tests = ADD_TESTS + "\ndef test_negative():\n    assert add(-1, -1) == -2\n"
    result = _run(ADD, tests)
    assert (result.verdict, result.passed, result.failed) == ("passed", 2, 0)
    assert [t["name"] for t in result.tests] == ["test_small", "test_negative"]
    assert result.to_json()["verdict"] == "passed"


def test_some_fail_with_counts_and_the_line_of_a_visible_test() -> None:
    visible = "from sandbox import visible\n\n@visible\ndef test_shown():\n    assert add(2, 2) == 5\n"
    result = _run(ADD, ADD_TESTS + STRICT_TESTS.split("\n", 1)[1] + visible)
    assert (result.verdict, result.passed, result.failed) == ("failed", 1, 2)
    assert [t["message"] for t in result.tests[1:]] == ["failed", "line 12: assert add(2, 2) == 5 -> AssertionError"]


def test_a_visible_hint_is_all_the_student_sees() -> None:
    tests = (
        "from solution import add\nfrom sandbox import visible\n\n"
        "@visible('Try two negative numbers.')\ndef test_negative():\n    assert add(-1, -1) == 2\n"
    )
    result = _run(ADD, tests)
    assert result.tests == [{"name": "test_negative", "passed": False, "message": "Try two negative numbers."}]


def test_visible_needs_a_literal_hint() -> None:
    tests = "from solution import add\nfrom sandbox import visible\nH = 'x'\n\n@visible(H)\ndef test_a():\n    pass\n"
    result = _run(ADD, tests)
    assert result.verdict == "tests_error" and "string literal" in result.detail


def test_plain_values_cross_as_themselves() -> None:
    solution = (
        "import collections\n\ndef echo(x):\n    return x\n\n"
        "def pair(a, b):\n    return collections.namedtuple('P', 'a b')(a, b)\n\nLIMIT = 10\n"
    )
    tests = (
        "import solution\nfrom solution import echo, pair, LIMIT\n\ndef test_values():\n"
        "    for value in [None, True, 0, -7, 2**80, 1.5, float('inf'), 'é\\n', [1, [2]], (1, (2, 3)),\n"
        "                  {1: 'a', (2, 3): [4]}, {1, 2}, frozenset({3})]:\n"
        "        back = echo(value)\n"
        "        assert back == value and type(back) is type(value), (value, back)\n"
        "    assert pair(1, 2) == (1, 2) and type(pair(1, 2)) is tuple\n"
        "    assert LIMIT == 10 and solution.LIMIT == 10\n"
        "    assert echo(x=3) == 3\n"
    )
    result = _run(solution, tests)
    assert result.verdict == "passed", result


def test_exceptions_arrive_as_builtin_classes() -> None:
    solution = (
        "class Broke(KeyError):\n    pass\n\ndef div(a, b):\n    return a / b\n\n"
        "def look(d, k):\n    raise Broke(k)\n"
    )
    tests = (
        "from solution import div, look\nfrom sandbox import SolutionError\n\ndef test_raises():\n"
        "    try:\n        div(1, 0)\n    except ZeroDivisionError as exc:\n"
        "        assert isinstance(exc, SolutionError) and exc.type_name == 'ZeroDivisionError'\n"
        "    else:\n        raise AssertionError('no exception')\n"
        "    try:\n        look({}, 'k')\n    except KeyError:\n        pass\n"
        "\ndef test_uncaught():\n    div(1, 0)\n"
    )
    result = _run(solution, tests)
    assert [t["passed"] for t in result.tests] == [True, False]
    assert result.tests[1]["message"] == "failed: your code raised ZeroDivisionError"


def test_a_visible_test_shows_the_students_own_message_even_after_a_hidden_one_in_the_file() -> None:
    solution = "def add(a, b):\n    raise ValueError(f'cannot add {a} and {b}')\n"
    tests = (
        "from solution import add\nfrom sandbox import visible\n\ndef test_hidden():\n    add(7, 8)\n\n"
        "@visible\ndef test_shown():\n    add(1, 2)\n"
    )
    result = _run(solution, tests)
    assert [t["message"] for t in result.tests] == [
        "failed: your code raised ValueError",
        "line 9: add(1, 2) -> your code raised ValueError: cannot add 1 and 2",
    ]


def test_star_import_brings_in_the_functions() -> None:
    result = _run(ADD + "SECRET_CONSTANT = 1\n", "from solution import *\n\ndef test_a():\n    assert add(1, 2) == 3\n")
    assert result.verdict == "passed", result


def test_a_missing_function_is_named() -> None:
    result = _run("def plus(a, b):\n    return a + b\n", ADD_TESTS)
    assert (result.verdict, result.tests[0]["message"]) == ("failed", "your solution does not define add")


def test_a_broken_tests_file_is_not_blamed_on_the_solution() -> None:
    result = _run(ADD, "from solution import add\nundefined_name\n\ndef test_a():\n    pass\n")
    assert result.verdict == "tests_error" and "problem in the tests" in result.detail


def test_syntax_error_in_solution_is_error() -> None:
    result = _run("def add(a, b)\n    return a + b\n", ADD_TESTS)
    assert result.verdict == "error"
    assert "SyntaxError" in result.detail


def test_runtime_error_at_import_is_error() -> None:
    result = _run("raise RuntimeError('boom')\n", ADD_TESTS)
    assert result.verdict == "error"
    assert "boom" in result.detail


def test_no_tests() -> None:
    result = _run(ADD, "from solution import add\n\ndef helper():\n    pass\n")
    assert (result.verdict, result.passed, result.failed) == ("no_tests", 0, 0)


def test_each_test_gets_a_fresh_process() -> None:
    solution = "calls = []\n\ndef add(a, b):\n    calls.append(1)\n    return len(calls)\n"
    test = "    assert add(0, 0) == 1\n\n"
    tests = f"from solution import add\n\ndef test_a():\n{test}def test_b():\n{test}"
    assert _run(solution, tests).verdict == "passed"


# --- resource limits -----------------------------------------------------------------------------


def test_infinite_loop_times_out() -> None:
    started = time.monotonic()
    result = _run(
        "def add(a, b):\n    while True:\n        pass\n", ADD_TESTS, SandboxLimits(wall_seconds=3, cpu_seconds=1)
    )
    assert result.verdict == "timeout"
    assert time.monotonic() - started < 3.5


def test_sleeping_program_hits_the_wall_clock() -> None:
    result = _run("import time\n\ndef add(a, b):\n    time.sleep(60)\n", ADD_TESTS, SandboxLimits(wall_seconds=1))
    assert result.verdict == "timeout"
    assert result.wall_ms < 3000


def test_fork_bomb_is_contained() -> None:
    solution = "import os\n\ndef add(a, b):\n    while True:\n        os.fork()\n"
    started = time.monotonic()
    result = _run(solution, ADD_TESTS)
    assert result.verdict == "killed"
    assert "process limit" in result.detail
    assert time.monotonic() - started < 5
    assert _sandbox_uids_alive() == []


def test_memory_hog() -> None:
    solution = "def add(a, b):\n    hog = []\n    while True:\n        hog.append(bytearray(10**7))\n"
    result = _run(solution, ADD_TESTS)
    assert result.verdict == "memory"


def test_huge_file_write_is_stopped() -> None:
    solution = (
        "def add(a, b):\n    with open('big', 'wb') as f:\n        while True:\n            f.write(b'x' * 10**6)\n"
    )
    result = _run(solution, ADD_TESTS, SandboxLimits(wall_seconds=4, max_file_mb=4))
    assert result.verdict == "killed"
    assert "file size" in result.detail


# --- isolation from the host ----------------------------------------------------------------------


def test_network_is_unreachable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        solution = (
            "import socket\n\ndef probe():\n    try:\n"
            f"        socket.create_connection(('127.0.0.1', {port}), timeout=1).close()\n"
            "        return 'connected'\n    except OSError as exc:\n        return 'blocked'\n"
        )
        tests = "from solution import probe\n\ndef test_net():\n    assert probe() == 'blocked'\n"
        result = _run(solution, tests)
        listener.settimeout(0)
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert result.verdict == "passed", result.detail


def test_host_files_are_invisible(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("answer key")
    paths = ["/etc/hostname", "/etc/passwd", str(secret), os.getcwd() + "/pyproject.toml", "/proc/1/environ"]
    solution = (
        "def probe(paths):\n    seen = []\n    for p in paths:\n        try:\n"
        "            seen.append(open(p).read())\n        except OSError:\n            pass\n    return seen\n"
    )
    tests = f"from solution import probe\n\ndef test_read():\n    assert probe({paths!r}) == []\n"
    assert _run(solution, tests).verdict == "passed"


def test_host_files_cannot_be_written(tmp_path: Path) -> None:
    targets = [str(tmp_path / "pwned"), f"/tmp/tutormesh-sandbox-{os.getpid()}", "/box/solution.py", "/usr/pwned"]
    solution = (
        "def probe(paths):\n    written = []\n    for p in paths:\n        try:\n"
        "            open(p, 'w').write('x')\n            written.append(p)\n        except OSError:\n"
        "            pass\n    return written\n"
    )
    tests = f"from solution import probe\n\ndef test_write():\n    assert probe({targets!r}) == [{targets[1]!r}]\n"
    assert _run(solution, tests).verdict == "passed"  # only the sandbox's private /tmp is writable
    assert not (tmp_path / "pwned").exists()
    assert not Path(targets[1]).exists()


# --- the verdict cannot be forged -----------------------------------------------------------------


@pytest.mark.parametrize(
    "solution",
    [
        pytest.param(
            "import __main__\n__main__._run_test = lambda *a: None\n__main__.report = print\n", id="patch-harness"
        ),
        pytest.param(
            "import builtins\nbuiltins.AssertionError = KeyError\nbuiltins.BaseException = KeyError\n", id="assertion"
        ),
        pytest.param(
            "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.type = lambda *a: int\n", id="builtins"
        ),
        pytest.param("import sys\nsys.modules['tests'] = sys.modules['os']\n", id="swap-tests-module"),
        pytest.param("import sys\nframe = sys._getframe(1)\nframe.f_globals['test_add'] = lambda: None\n", id="frames"),
        pytest.param("import gc\nfor o in gc.get_objects():\n    pass\n", id="gc"),
        pytest.param("import ctypes\n", id="ctypes"),
        pytest.param(
            "import signal, os\n"
            "def grab(sig, frame):\n"
            "    while frame is not None:\n"
            "        frame.f_locals.get('holder', []).clear()\n"
            "        frame = frame.f_back\n"
            "signal.signal(signal.SIGUSR1, grab)\nos.kill(os.getpid(), signal.SIGUSR1)\n",
            id="signal-frame",
        ),
    ],
)
def test_tampering_with_the_old_harness_fails(solution: str) -> None:
    result = _run(solution + ADD, STRICT_TESTS)
    assert result.passed == 0
    assert result.verdict in ("failed", "error", "timeout")  # breaking its own process can stall it


def test_forged_output_and_files_are_ignored() -> None:
    forged = '{"passed": 1, "failed": 0, "verdict": "passed", "tests": [{"name": "test_add", "code": "P"}]}'
    solution = (
        "import json, os\n"
        f"FORGED = {forged!r}\n"
        "print(FORGED)\n"
        "for name in ('result.json', 'results.json', '/tmp/result.json'):\n"
        "    open(name, 'w').write(FORGED)\n"
        "for fd in range(3, 64):\n"  # every descriptor the process holds gets a fake record
        "    try:\n        os.write(fd, FORGED.encode() + b'P' * 64)\n    except OSError:\n        pass\n" + ADD
    )
    result = _run(solution, STRICT_TESTS)
    assert (result.verdict, result.passed, result.failed) == ("failed", 0, 1)


@pytest.mark.parametrize(
    ("solution", "verdicts"),
    [
        pytest.param("import sys\nsys.exit(0)\n" + ADD, ("error",), id="sys-exit-at-import"),
        pytest.param("import os\nos._exit(0)\n" + ADD, ("failed", "error"), id="os-exit-at-import"),
        pytest.param("import sys\ndef add(a, b):\n    sys.exit(0)\n", ("failed",), id="sys-exit-in-test"),
        pytest.param("import os\ndef add(a, b):\n    os._exit(0)\n", ("failed",), id="os-exit-in-test"),
        pytest.param("import os\ndef add(a, b):\n    os.kill(os.getppid(), 9)\n", ("failed",), id="kill-parent"),
        pytest.param("import os\ndef add(a, b):\n    os.kill(-1, 9)\n", ("failed",), id="kill-everything"),
    ],
)
def test_early_exit_and_killing_count_against_the_solution(solution: str, verdicts: tuple[str, ...]) -> None:
    result = _run(solution, ADD_TESTS)
    assert result.passed == 0
    assert result.verdict in verdicts, result.detail


def test_missing_bwrap_refuses_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_bwrap.shutil, "which", lambda _name: None)
    monkeypatch.setattr(sandbox_bwrap.os, "access", lambda *_a: False)
    with pytest.raises(SandboxUnavailable):
        _run(ADD, ADD_TESTS)


def test_nested_namespaces_and_ptrace_are_denied() -> None:
    # unshare(1) is util-linux (always there); strace is optional on the host.
    tools = [["/usr/bin/unshare", "-U", "/usr/bin/true"]]
    if os.path.exists("/usr/bin/strace"):
        tools.append(["/usr/bin/strace", "-o", "/dev/null", "/usr/bin/true"])
    solution = (
        "import subprocess\n\ndef probe(cmds):\n"
        "    return [subprocess.run(c, capture_output=True).returncode for c in cmds]\n"
    )
    tests = f"from solution import probe\n\ndef test_denied():\n    assert 0 not in probe({tools!r})\n"
    result = _run(solution, tests)
    assert result.verdict == "passed", result.detail


def test_grade_code_cli_prints_the_result_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tutormesh.cli import main

    (tmp_path / "s.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "t.py").write_text(ADD_TESTS + "\ndef test_zero():\n    assert add(0, 0) == 0\n")
    assert main(["grade-code", "--solution", str(tmp_path / "s.py"), "--tests", str(tmp_path / "t.py")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["passed"], out["failed"], out["verdict"]) == (1, 1, "failed")
    assert out["tests"][0] == {"name": "test_small", "passed": False, "message": "failed"}
