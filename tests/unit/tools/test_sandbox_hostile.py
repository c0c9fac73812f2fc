"""Student code cannot forge a grade, read the hidden tests, or learn them from the feedback.

Every program here attacks the grader itself. Most use IMPOSSIBLE: no plain value equals both 5
and 6, so any pass is a forgery; the honest way to pass (return the right value) does not exist.
"""

from __future__ import annotations

import shutil
import time

import pytest

from tests.conftest import service_missing
from tutormesh.tools.sandbox import SandboxLimits, SandboxResult, run_tests

FAST = SandboxLimits(wall_seconds=4.0, cpu_seconds=2, memory_mb=128, call_seconds=2.0)
ADD = "def add(a, b):\n    return a + b\n"
IMPOSSIBLE = "from solution import add\n\ndef test_add():\n    x = add(2, 2)\n    assert x == 5 and x == 6\n"
# The check docs/sandbox.md told teachers to write against objects that lie about equality.
TYPED = (
    "from solution import add\n\ndef test_add():\n    x = add(2, 2)\n"
    "    assert type(x) is int and isinstance(x, int) and x == 5 and x == 6\n"
)
SECRET = "4242424242"
HIDDEN = f"from solution import add\n\ndef test_hidden():\n    assert add(20, 22) == {SECRET}  # expected {SECRET}\n"


@pytest.fixture(autouse=True)
def _needs_bwrap() -> None:
    if shutil.which("bwrap") is None:
        service_missing("bubblewrap (apt-get install -y bubblewrap)", FileNotFoundError("bwrap"))


def _run(solution: str, tests: str, limits: SandboxLimits = FAST) -> SandboxResult:
    return run_tests(solution, tests, limits=limits)


def _assert_not_passed(result: SandboxResult) -> None:
    assert result.passed == 0, result
    assert result.verdict != "passed", result


# --- the attacks that forged grades ---------------------------------------------------------------

AUDIT_HOOK_DEFAULTS = """
import __main__, os, sys
__main__._audit_hook.__defaults__ = (frozenset(), frozenset(), frozenset(), type, str)
frame = sys._getframe()
while frame is not None and 'token' not in frame.f_locals:
    frame = frame.f_back
os.write(frame.f_locals['out'], frame.f_locals['token'] + b'Pforged')
os._exit(0)
"""

WORKER_ARGS_BUILTINS = """
import threading

class Liar(int):
    def __eq__(self, other):
        return True

for thread in threading.enumerate():
    for arg in getattr(thread, '_args', ()):
        if isinstance(arg, dict) and '__builtins__' in arg:
            arg['__builtins__']['type'] = lambda obj: int
            arg['__builtins__']['isinstance'] = lambda obj, cls: True

def add(a, b):
    return Liar(4)
"""


def test_rewriting_the_audit_hook_and_walking_to_the_result_pipe_forges_nothing() -> None:
    _assert_not_passed(_run(AUDIT_HOOK_DEFAULTS + ADD, IMPOSSIBLE))


def test_patching_the_tests_builtins_through_the_worker_thread_forges_nothing() -> None:
    _assert_not_passed(_run(WORKER_ARGS_BUILTINS, TYPED))


def test_the_hidden_tests_are_not_in_the_students_sandbox() -> None:
    # Search every file the student's process can read (the interpreter's own trees aside).
    solution = """
import os, sys
needle = ('42' * 5).encode()  # SECRET, spelt so that solution.py itself does not hold it
prefixes = ('/usr', '/bin', '/sbin', '/lib', '/dev', os.path.realpath(sys.base_prefix))
found = []
for root, dirs, files in os.walk('/'):
    dirs[:] = [d for d in dirs if not os.path.join(root, d).startswith(prefixes)]
    for name in files:
        path = os.path.join(root, name)
        try:
            if not os.path.isfile(path) or os.path.islink(path):
                continue
            with open(path, 'rb') as fh:
                if needle in fh.read(1 << 20):
                    found.append(path)
        except OSError:
            pass

def add(a, b):
    return found
"""
    tests = f"from solution import add\n\ndef test_add():\n    assert add(0, {SECRET}) == []\n"
    result = _run(solution, tests)
    assert result.verdict == "passed", result  # the student's process saw no file holding the secret


def test_failure_feedback_shows_no_test_source_or_expected_values() -> None:
    result = _run(ADD, HIDDEN)
    assert (result.verdict, result.passed, result.failed) == ("failed", 0, 1)
    shown = str(result.to_json())
    assert SECRET not in shown and "assert" not in shown and "expected" not in shown
    assert result.tests[0] == {"name": "test_hidden", "passed": False, "message": "failed"}


# --- variants: what the student's process could still try ---------------------------------------


@pytest.mark.parametrize(
    "solution",
    [
        pytest.param(
            "class Liar:\n    def __eq__(self, other):\n        return True\n    __hash__ = None\n"
            "def add(a, b):\n    return Liar()\n",
            id="lying-eq",
        ),
        pytest.param(
            "class Liar(int):\n    def __eq__(self, other):\n        return True\n    def __repr__(self):\n"
            "        raise SystemExit\ndef add(a, b):\n    return Liar(4)\n",
            id="int-subclass-with-eq-and-repr",
        ),
        pytest.param("def add(a, b):\n    return 'x' * (64 * 1024 * 1024)\n", id="huge-return-value"),
        pytest.param(
            "def add(a, b):\n    x = []\n    for _ in range(10**5):\n        x = [x]\n    return x\n", id="deep-nesting"
        ),
        pytest.param(
            "import itertools\ndef add(a, b):\n    return itertools.count()\n", id="infinite-generator"
        ),
        pytest.param("def add(a, b):\n    while True:\n        yield 5\n", id="generator-function"),
        pytest.param("def add(a, b):\n    return add\n", id="returns-a-function"),
        pytest.param(
            "import os, json\n"
            "LINES = b''.join(json.dumps({'id': i, 'ok': 5}).encode() + b'\\n' for i in range(200))\n"
            "def add(a, b):\n"
            "    print('{\"tests\": [{\"name\": \"test_add\", \"code\": \"P\"}]}')\n"
            "    for fd in range(64):\n"
            "        try:\n            os.write(fd, LINES)\n        except OSError:\n            pass\n"
            "    return 5\n",
            id="fake-protocol-lines-on-every-fd",
        ),
        pytest.param("import os\ndef add(a, b):\n    os._exit(0)\n", id="os-exit-mid-call"),
        pytest.param("import os, signal\ndef add(a, b):\n    os.kill(0, signal.SIGSTOP)\n", id="sigstop-self"),
        pytest.param("import os\ndef add(a, b):\n    os.kill(-1, 9)\n", id="kill-everything-it-sees"),
        pytest.param(
            "import os\ndef add(a, b):\n    for pid in range(1, 400):\n        try:\n"
            "            os.kill(pid, 9)\n        except OSError:\n            pass\n    return 5\n",
            id="kill-every-pid",
        ),
        pytest.param("import os\ndef add(a, b):\n    while True:\n        os.fork()\n", id="fork-bomb"),
        pytest.param(
            "import ctypes\nlibc = ctypes.CDLL(None)\n"
            "def add(a, b):\n    for fd in range(64):\n        libc.write(fd, b'Pforged\\n', 8)\n"
            "    libc._exit(0)\n",
            id="ctypes-native-writes-and-exit",
        ),
        pytest.param(
            "import sys\ndef add(a, b):\n    sys.setrecursionlimit(10**6)\n    return 5\n"
            "class E(Exception):\n    def __str__(self):\n        while True:\n            pass\n",
            id="returns-5-once",  # honest 5: still cannot equal 6
        ),
    ],
)
def test_no_return_value_or_trick_passes_an_impossible_test(solution: str) -> None:
    _assert_not_passed(_run(solution, IMPOSSIBLE))


def test_the_tests_process_is_out_of_reach() -> None:
    # No /proc to read another process's memory or descriptors, and no way to mount one.
    solution = (
        "import os, subprocess\n\ndef add(a, b):\n    seen = []\n"
        "    for path in ('/proc/1/environ', '/proc/2/fd', '/proc/self/status', '/proc/2/mem'):\n"
        "        seen.append(os.path.exists(path))\n"
        "    seen.append(subprocess.run(['/usr/bin/mount', '-t', 'proc', 'proc', '/tmp'],"
        " capture_output=True).returncode == 0)\n"
        "    return seen\n"
    )
    tests = "from solution import add\n\ndef test_probe():\n    assert add(1, 1) == [False] * 5\n"
    result = _run(solution, tests)
    assert result.verdict == "passed", result


def test_an_exception_with_a_hostile_str_or_name_fails_quietly() -> None:
    solution = (
        f"def add(a, b):\n    raise type('{SECRET}' * 1000, (ValueError,), {{}})('x' * 10**6)\n"
    )
    tests = "from solution import add\n\ndef test_add():\n    add(1, 2)\n"
    result = _run(solution, tests)
    assert (result.verdict, result.passed) == ("failed", 0)
    assert result.tests[0]["message"] == "failed: your code raised ValueError"


def test_writing_bwrap_errors_to_stderr_does_not_make_the_sandbox_unavailable() -> None:
    solution = "import os\nos.write(2, b'bwrap: fake failure\\n')\ndef add(a, b):\n    os.write(2, b'bwrap: x')\n"
    result = _run(solution, IMPOSSIBLE)
    _assert_not_passed(result)


def test_a_later_tests_inputs_do_not_leak_through_an_import_error() -> None:
    # The first test passes and stores its inputs; the second test's import then raises them.
    solution = (
        "import os\nif os.path.exists('/tmp/seen'):\n    raise ValueError(open('/tmp/seen').read())\n"
        "def add(a, b):\n    open('/tmp/seen', 'w').write(repr((a, b)))\n    return a + b\n"
    )
    tests = f"from solution import add\n\ndef test_one():\n    assert add({SECRET}, 1) == {SECRET} + 1\n\n" + (
        "def test_two():\n    assert add(1, 1) == 2\n"
    )
    result = _run(solution, tests)
    assert SECRET not in str(result.to_json()), result


def test_a_call_that_never_answers_fails_that_test_only_and_quickly() -> None:
    solution = "import time\n\ndef add(a, b):\n    if a == 1:\n        time.sleep(60)\n    return a + b\n"
    tests = "from solution import add\n\ndef test_slow():\n    add(1, 1)\n\n" + (
        "def test_quick():\n    assert add(2, 2) == 4\n"
    )
    limits = SandboxLimits(wall_seconds=6.0, cpu_seconds=2, memory_mb=128, call_seconds=1.0)
    started = time.monotonic()
    result = _run(solution, tests, limits)
    assert time.monotonic() - started < 4
    assert (result.verdict, result.passed) == ("timeout", 1)
    assert result.tests[0]["message"] == "timed out: your code did not answer within 1 s"


def test_a_reply_over_the_size_cap_fails_even_if_the_test_catches_everything() -> None:
    solution = "def add(a, b):\n    return 'x' * (3 * 1024 * 1024)\n"
    tests = "from solution import add\n\ndef test_add():\n    try:\n        add(1, 1)\n" + (
        "    except BaseException:\n        pass\n"
    )
    result = _run(solution, tests, SandboxLimits(wall_seconds=4.0, memory_mb=128, max_return_kb=1024))
    assert (result.verdict, result.passed) == ("failed", 0)
    assert result.tests[0]["message"] == "your code returned more than 1024 KiB"


def test_killing_everything_it_can_reach_leaves_the_tests_and_the_record_intact() -> None:
    solution = (
        "import os\n\ndef add(a, b):\n    for pid in range(1, 1000):\n        try:\n            os.kill(pid, 9)\n"
        "        except OSError:\n            pass\n    return a + b\n"
    )
    tests = "from solution import add\n\ndef test_a():\n    assert add(1, 1) == 2\n\ndef test_b():\n    pass\n"
    result = _run(solution, tests)
    # It killed its own side (its answer and later tests with it), never the tests' process,
    # which reports both tests.
    assert (result.verdict, [t["name"] for t in result.tests]) == ("failed", ["test_a", "test_b"])
    assert [t["message"] for t in result.tests] == ["your code's process ended before it answered"] * 2


def test_the_tests_run_in_a_sandbox_of_their_own() -> None:
    tests = (
        "import os, socket\n\ndef test_confined():\n"
        "    assert not os.path.exists('/box/solution.py') and not os.path.exists('/etc/passwd')\n"
        "    assert not os.path.exists('/proc/1') and os.listdir('/tmp') == []\n"
        "    try:\n        socket.create_connection(('127.0.0.1', 5432), timeout=1)\n"
        "    except OSError:\n        pass\n    else:\n        raise AssertionError('network')\n"
    )
    result = _run(ADD, tests)
    assert result.verdict == "passed", result
