"""Start treffpunkt's embedded mode (deploy/embedded/run.py) as a subprocess for tests.

Not a test module: the tests import ``embedded_server`` and use it in a fixture::

    with embedded_server() as server:
        requests.get(server.base_url + "/api/meetings")
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
RUN_PY = REPO / "deploy" / "embedded" / "run.py"
DEMO_TITLE = "2. Landesnetzwerktreffen der hessischen Ausländerbehörden"


@dataclass(frozen=True)
class EmbeddedServer:
    base_url: str
    var: Path
    meeting_id: str
    logins: dict  # {"admin": {"email", "password"}, "organiser": {...}} as in var/demo-logins.json
    token: str  # the demo administrator's bearer token
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        """What the server printed so far (stdout and stderr), for failure messages."""
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


def _wait_until_ready(process: subprocess.Popen, base_url: str, log: Path, timeout: float) -> str:
    """Wait for /readyz to answer 200 and the demo meeting to reach the registration API; return its id."""
    deadline = time.monotonic() + timeout
    ready = False
    last_problem = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"embedded server exited with {process.returncode}:\n"
                               f"{log.read_text(errors='replace')}")
        try:
            if not ready:
                response = requests.get(f"{base_url}/readyz", timeout=2)
                ready = response.status_code == 200
                last_problem = f"/readyz answered {response.status_code}"
            if ready:
                # The seed is published through the in-memory broker: it shows up a moment later.
                response = requests.get(f"{base_url}/api/meetings", timeout=2)
                response.raise_for_status()
                for meeting in response.json()["meetings"]:
                    if meeting["title"] == DEMO_TITLE:
                        return meeting["id"]
                last_problem = "demo meeting not yet in /api/meetings"
        except requests.RequestException as exc:
            last_problem = repr(exc)
        time.sleep(0.1)
    raise TimeoutError(f"embedded server not ready after {timeout}s ({last_problem}):\n"
                       f"{log.read_text(errors='replace')}")


def sign_in(base_url: str, email: str, password: str) -> str:
    """A bearer token from the agenda's ``POST /agenda/api/session``."""
    response = requests.post(f"{base_url}/agenda/api/session", json={"email": email, "password": password},
                             timeout=10)
    response.raise_for_status()
    return response.json()["token"]


@contextlib.contextmanager
def embedded_server(*, timeout: float = 30.0) -> Iterator[EmbeddedServer]:
    """Run deploy/embedded/run.py on a free port with a fresh var directory until the block ends."""
    with tempfile.TemporaryDirectory(prefix="treffpunkt-embedded-") as tmp:
        var = Path(tmp) / "var"
        log = Path(tmp) / "server.log"
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING")}
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, str(RUN_PY), "--port", str(port), "--var", str(var)],
                cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            meeting_id = _wait_until_ready(process, base_url, log, timeout)
            logins = json.loads((var / "demo-logins.json").read_text())
            token = sign_in(base_url, **logins["admin"])
            yield EmbeddedServer(base_url=base_url, var=var, meeting_id=meeting_id, logins=logins, token=token,
                                 process=process, log=log)
        finally:
            _stop(process)
