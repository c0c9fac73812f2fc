"""`tutormesh serve`: starts the API as a child, says where to open it, stops everything on Ctrl-C."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest

from tests.integration.live import serve
from tutormesh.core.settings import Settings
from tutormesh.server.supervisor import ChildSpec, Supervisor, api_child, child_specs

pytestmark = pytest.mark.integration


def test_serve_prints_the_url_serves_and_stops_cleanly(tmp_path: Path) -> None:
    with serve(tmp_path / "data") as live:
        assert f"open {live.url}/" in live.banner
        with urlopen(f"{live.url}/v1/health", timeout=5) as response:
            assert response.status == 200
        with urlopen(f"{live.url}/", timeout=5) as response:
            assert b"<title>TutorMesh</title>" in response.read()
        with pytest.raises(HTTPError) as missing:
            urlopen(f"{live.url}/v1/threads", timeout=5)
        assert missing.value.code == 401 and b'"error"' in missing.value.read()
        port = int(live.url.rsplit(":", 1)[1])
        live.proc.send_signal(2)  # SIGINT, as Ctrl-C
        assert live.proc.wait(timeout=30) == 0
        assert live.proc.stdout is not None and "stopped" in live.proc.stdout.read()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the API child must be gone"


def test_children_are_specs_that_others_can_add(isolated_settings: Settings) -> None:
    specs = {spec.name: spec for spec in child_specs(isolated_settings)}
    assert list(specs)[-1] == "api"  # the API starts last, once its helpers answer
    assert specs["api"].ready_url and specs["api"].ready_url.endswith("/v1/health")
    assert {"llm", "celery-worker"} <= set(specs)  # the embedded profile supervises its LLM server and worker
    assert "127.0.0.1" in specs["llm"].argv and specs["llm"].ready_url
    assert "--no-access-log" in api_child(isolated_settings).argv  # uvicorn's log would carry IPs and paths


def test_a_child_that_keeps_dying_stops_the_supervisor() -> None:
    import sys

    supervisor = Supervisor([ChildSpec("flaky", [sys.executable, "-c", "raise SystemExit(3)"], restart=False)])
    supervisor.start(supervisor.specs[0])
    assert supervisor.watch() == 1
    supervisor.stop()
