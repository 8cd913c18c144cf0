"""The local stack: every service as its own process against RabbitMQ, PostgreSQL and an SMTP server.

    python deploy/localstack.py start|stop|status      (scripts/stack wraps this)

Processes: gunicorn for each HTTP service, a worker per service (outbox relay;
consumers; notify's mail sender). One PostgreSQL database per service, created
if missing and migrated before the start. Tests and benchmarks use
:class:`LocalStack` directly with their own namespace, databases and SMTP server.

Organisers sign in at the agenda (http://127.0.0.1:8001/anmelden); the three services share
SESSION_SECRET (from the environment, else random per start) so that one sign-in counts in all of
them. Create the first administrator with ``python deploy/localstack.py create-admin EMAIL NAME``
(password from ADMIN_PASSWORD or asked for); scripts use :meth:`LocalStack.admin_token`.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"agenda": "treffpunkt_agenda", "registration": "treffpunkt_registration", "notify": "treffpunkt_notify"}
DEFAULT_PORTS = {"agenda": 8001, "registration": 8002, "notify": 8003}


@dataclass
class LocalStack:
    namespace: str = "treffpunkt"
    database_prefix: str = "treffpunkt"
    amqp_url: str = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
    postgres_url: str = os.environ.get("POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
    smtp_host: str = os.environ.get("SMTP_HOST", "127.0.0.1")
    smtp_port: int = int(os.environ.get("SMTP_PORT", "1025"))
    ports: dict = field(default_factory=lambda: dict(DEFAULT_PORTS))
    log_dir: Path = ROOT / "var" / "stack"
    session_secret: str = field(default_factory=lambda: os.environ.get("SESSION_SECRET") or secrets.token_urlsafe(48))
    # Registration takes the load. On a 2-core machine its requests are CPU-bound and the threads of one
    # process queue on the GIL, so a thread holding the meeting's row lock can wait for the GIL between
    # its UPDATE and its COMMIT while the others queue on the lock: few threads per process. With one
    # thread per process each worker serves its keep-alive clients strictly one by one, and the clients
    # are spread unevenly over the workers (one run: p50 74 ms beside p99 1.9 s). 3 x 2 is between.
    web_workers: dict = field(default_factory=lambda: {"agenda": 1, "registration": 3, "notify": 1})
    web_threads: dict = field(default_factory=lambda: {"agenda": 4, "registration": 2, "notify": 4})
    extra_env: dict = field(default_factory=dict)
    python: str = sys.executable
    processes: dict = field(default_factory=dict)

    def database_url(self, service: str) -> str:
        return f"{self.postgres_url}/{self.database_prefix}_{service}"

    def base_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def env(self, service: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PUBLIC_BASE_URL"))}
        env.update({
            "AMQP_URL": self.amqp_url, "DATABASE_URL": self.database_url(service),
            "TREFFPUNKT_NAMESPACE": self.namespace, "SMTP_HOST": self.smtp_host, "SMTP_PORT": str(self.smtp_port),
            "PUBLIC_BASE_URL": self.base_url(service), "REGISTRATION_BASE_URL": self.base_url("registration"),
            "SESSION_SECRET": self.session_secret, "SIGN_IN_URL": self.base_url("agenda") + "/anmelden",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env.get("*", {}))
        env.update(self.extra_env.get(service, {}))
        return env

    def migrate(self) -> None:
        for service, package in SERVICES.items():
            subprocess.run([self.python, "-m", package, "migrate"], env=self.env(service), check=True,
                           cwd=ROOT, stdout=subprocess.DEVNULL)

    def create_admin(self, email: str, name: str, password: str, *, existing_ok: bool = True) -> None:
        """An administrator account, through the same command an operator uses."""
        argv = [self.python, "-m", "treffpunkt_agenda", "create-admin", "--email", email, "--name", name]
        subprocess.run(argv + (["--existing-ok"] if existing_ok else []), cwd=ROOT, check=True,
                       env={**self.env("agenda"), "ADMIN_PASSWORD": password}, stdout=subprocess.DEVNULL)

    def sign_in(self, email: str, password: str) -> str:
        """A bearer token for the account, from the agenda's ``POST /api/session`` over HTTP."""
        request = urllib.request.Request(self.base_url("agenda") + "/api/session", method="POST",
                                         data=json.dumps({"email": email, "password": password}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["token"]

    def admin_token(self) -> str:
        """Creates a throw-away administrator for this stack (a test, a benchmark) and signs it in."""
        email, password = f"admin-{secrets.token_hex(4)}@example.org", secrets.token_urlsafe(18)
        self.create_admin(email, "Stack-Administration", password, existing_ok=False)
        return self.sign_in(email, password)

    def _spawn(self, name: str, service: str, argv: list[str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, env=self.env(service), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.processes[name] = proc
        return proc

    def start_process(self, name: str) -> subprocess.Popen:
        service, kind = name.rsplit("-", 1)
        package = SERVICES[service]
        if kind == "web":
            argv = [self.python, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.ports[service]}",
                    "--workers", str(self.web_workers[service]), "--worker-class", "gthread",
                    "--threads", str(self.web_threads[service]),
                    "--graceful-timeout", "5", "--access-logfile", "-", "--log-level", "warning",
                    f"{package}.app:create_app()"]
        else:
            argv = [self.python, "-m", package, "worker"]
        return self._spawn(name, service, argv)

    def start(self, *, migrate: bool = True, timeout: float = 60) -> "LocalStack":
        if migrate:
            self.migrate()
        for service in SERVICES:
            self.start_process(f"{service}-web")
            self.start_process(f"{service}-worker")
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        pending = set(SERVICES)
        while pending and time.monotonic() < deadline:
            for service in list(pending):
                try:
                    with urllib.request.urlopen(self.base_url(service) + "/readyz", timeout=2) as r:
                        if r.status == 200:
                            pending.discard(service)
                except Exception:
                    pass
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.log_dir / name}.log")
            if pending:
                time.sleep(0.2)
        if pending:
            raise TimeoutError(f"not ready after {timeout}s: {sorted(pending)}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.processes[name]
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def stop(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, proc in self.processes.items():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.processes.clear()

    def pids(self) -> dict:
        return {name: proc.pid for name, proc in self.processes.items() if proc.poll() is None}

    def drop_databases(self) -> None:
        from treffpunkt_shared.db import drop_database
        for service in SERVICES:
            drop_database(self.database_url(service))


def _state_file() -> Path:
    return ROOT / "var" / "stack" / "pids.json"


def _ask_password() -> str:
    import getpass
    return getpass.getpass("Passwort / password (min. 12): ")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    stack = LocalStack()
    if command == "start":
        stack.start()
        _state_file().write_text(json.dumps(stack.pids()))
        print("local stack running:")
        for service in SERVICES:
            print(f"  {service:<13} {stack.base_url(service)}")
        print(f"  sign in       {stack.base_url('agenda')}/anmelden  (first administrator: "
              f"ADMIN_PASSWORD=… scripts/stack create-admin EMAIL NAME)")
        print(f"  logs          {stack.log_dir}/\n  stop with: scripts/stack stop")
        return 0
    if command == "stop":
        if _state_file().exists():
            for name, pid in json.loads(_state_file().read_text()).items():
                try:
                    os.killpg(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            _state_file().unlink()
        print("local stack stopped")
        return 0
    if command == "create-admin" and len(argv) == 3:
        stack.create_admin(argv[1], argv[2], os.environ.get("ADMIN_PASSWORD") or _ask_password(),
                           existing_ok=False)
        print(f"administrator {argv[1]}: sign in at {stack.base_url('agenda')}/anmelden")
        return 0
    if command == "status":
        pids = json.loads(_state_file().read_text()) if _state_file().exists() else {}
        for name, pid in pids.items():
            alive = Path(f"/proc/{pid}").exists()
            print(f"  {name:<20} pid {pid:<8} {'running' if alive else 'gone'}")
        return 0 if pids else 1
    print("usage: localstack.py start|stop|status|create-admin EMAIL NAME", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
