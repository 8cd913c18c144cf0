"""End-to-end registration benchmark: HTTP registrations in, opt-in emails (place reserved / waiting list) out.

    .venv/bin/python bench/registrations.py [--n 2000] [--concurrency 32] [--capacity N]
                                            [--out bench/results/registrations.json]
    .venv/bin/python bench/registrations.py --scenario opening-rush     # n=5000, concurrency=64, capacity=300

Starts its own SMTP server (aiosmtpd, in this process) and its own LocalStack (own broker namespace, own
databases, free ports), publishes one meeting, fires N registrations from C keep-alive clients, waits for
the N emails and reports throughput, latencies, exactness and the stack's CPU/RSS. Everything it created
(processes, databases, exchanges and queues) is removed at the end, also on failure. See bench/README.md.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "deploy"))
from localstack import SERVICES, LocalStack  # noqa: E402

SCENARIOS = {
    "default": {"n": 2000, "concurrency": 32, "capacity": None},
    "opening-rush": {"n": 5000, "concurrency": 64, "capacity": 300},
}


# --------------------------------------------------------------------------- helpers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def pika_connection(amqp_url: str):
    import pika
    url = amqp_url.rstrip("/") + "/%2F" if amqp_url.endswith("//") else amqp_url
    return pika.BlockingConnection(pika.URLParameters(url))


# --------------------------------------------------------------------------- SMTP sink

class RecordingHandler:
    """aiosmtpd handler: per recipient, the monotonic arrival time of every accepted mail."""

    def __init__(self):
        self.lock = threading.Lock()
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.raw: dict[str, list[bytes]] = defaultdict(list)
        self.total = 0

    async def handle_DATA(self, server, session, envelope):
        now = time.monotonic()
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                key = rcpt.lower()
                self.arrivals[key].append(now)
                self.raw[key].append(envelope.original_content or envelope.content)
                self.total += 1
        return "250 Message accepted for delivery"

    def snapshot(self) -> tuple[int, int]:
        with self.lock:
            return self.total, len(self.arrivals)


# --------------------------------------------------------------------------- resource sampling

class ProcessSampler(threading.Thread):
    """Samples CPU time and RSS of each stack process and its children (gunicorn workers) every `interval`."""

    def __init__(self, groups: dict[str, int], interval: float = 0.25, infra=None):
        super().__init__(daemon=True, name="sampler")
        self.groups = groups                      # name -> root pid (process group leader)
        self.infra = infra or (lambda: {})      # () -> {name: pids} of postgres / rabbitmq processes
        self.interval = interval
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.procs: dict[int, psutil.Process] = {}
        self.cpu: dict[str, dict[int, float]] = defaultdict(dict)     # group -> pid -> last cpu seconds
        self.cpu_at_mark: dict[str, dict[int, float]] = {}
        self.peak_rss: dict[str, int] = defaultdict(int)              # group -> max sampled sum of RSS
        self.peak_hwm: dict[str, dict[int, int]] = defaultdict(dict)  # group -> pid -> VmHWM (kernel peak)
        self.nprocs: dict[str, int] = defaultdict(int)
        self.infra_names: dict[str, None] = {}

    def _proc(self, pid: int) -> psutil.Process | None:
        p = self.procs.get(pid)
        if p is None:
            try:
                p = self.procs[pid] = psutil.Process(pid)
            except psutil.Error:
                return None
        return p

    @staticmethod
    def _hwm(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def sample(self) -> None:
        with self.lock:
            for name, root in list(self.groups.items()):
                rootp = self._proc(root)
                if rootp is None:
                    continue
                try:
                    members = [rootp] + rootp.children(recursive=True)
                except psutil.Error:
                    members = [rootp]
                rss_sum = 0
                alive = 0
                for p in members:
                    try:
                        with p.oneshot():
                            t = p.cpu_times()
                            rss = p.memory_info().rss
                    except psutil.Error:
                        continue
                    alive += 1
                    self.cpu[name][p.pid] = t.user + t.system
                    rss_sum += rss
                    self.peak_hwm[name][p.pid] = max(self.peak_hwm[name].get(p.pid, 0), self._hwm(p.pid), rss)
                self.peak_rss[name] = max(self.peak_rss[name], rss_sum)
                self.nprocs[name] = max(self.nprocs[name], alive)
            for name, pids in self.infra().items():
                self.infra_names.setdefault(name, None)
                for pid in pids:
                    p = self._proc(pid)
                    if p is None:
                        continue
                    try:
                        t = p.cpu_times()
                    except psutil.Error:
                        continue
                    self.cpu[name][pid] = t.user + t.system

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            self.sample()

    def mark(self) -> None:
        """Start of the measured phase: CPU is reported relative to this point."""
        self.sample()
        with self.lock:
            self.cpu_at_mark = {name: dict(v) for name, v in self.cpu.items()}

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=5)
        self.sample()

    def cpu_since_mark(self, name: str) -> float:
        with self.lock:
            now, then = self.cpu.get(name, {}), self.cpu_at_mark.get(name, {})
            # A process born after the mark (e.g. a restarted gunicorn worker) counts from zero.
            return sum(v - then.get(pid, 0.0) for pid, v in now.items())


class PgActivitySampler(threading.Thread):
    """What this run's PostgreSQL backends are doing (pg_stat_activity), sampled every `interval` during the load.

    Reported as the average number of backends per (database, state, wait event): e.g. many registration
    backends in ``active Lock:transactionid`` means requests queue on a row lock."""

    def __init__(self, postgres_url: str, db_prefix: str, interval: float = 0.1):
        super().__init__(daemon=True, name="pg-activity")
        self.url, self.db_prefix, self.interval = postgres_url, db_prefix, interval
        self.stop_event = threading.Event()
        self.counts: Counter = Counter()
        self.samples = 0

    def run(self) -> None:
        import sqlalchemy as sa
        engine = sa.create_engine(f"{self.url}/postgres")
        q = sa.text("SELECT datname, coalesce(state, '?'), coalesce(wait_event_type, ''), coalesce(wait_event, ''),"
                    " count(*) FROM pg_stat_activity WHERE datname LIKE :p AND pid <> pg_backend_pid()"
                    " GROUP BY 1, 2, 3, 4")
        try:
            with engine.connect() as conn:
                while not self.stop_event.wait(self.interval):
                    rows = conn.execute(q, {"p": f"{self.db_prefix}\\_%"}).all()
                    conn.rollback()
                    self.samples += 1
                    for db, state, wtype, wevent, count in rows:
                        key = f"{db.removeprefix(self.db_prefix + '_')}: {state}" + (f" {wtype}:{wevent}" if wtype else "")
                        self.counts[key] += count
        finally:
            engine.dispose()

    def stop(self) -> dict:
        self.stop_event.set()
        self.join(timeout=5)
        return {k: round(v / self.samples, 2) for k, v in sorted(self.counts.items(), key=lambda kv: -kv[1])
                if self.samples}


def infra_pids(db_prefix: str):
    """A function giving the PostgreSQL and RabbitMQ processes on this machine, re-evaluated at every sample:
    postgres backends connected to this run's databases (their command line names the database), all other
    postgres processes (shared with anyone else on this machine) and RabbitMQ's beam.smp (shared)."""
    postmaster = rabbit = None
    for p in psutil.process_iter(["name", "ppid"]):
        if p.info["name"] == "postgres" and p.info["ppid"] == 1:
            postmaster = p
        elif p.info["name"] == "beam.smp":
            rabbit = p.pid

    def current() -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {"postgres backends (this run's DBs)": [], "postgres other (shared)": [],
                                        "rabbitmq (shared)": [rabbit] if rabbit else []}
        if postmaster is not None:
            groups["postgres other (shared)"].append(postmaster.pid)
            try:
                children = postmaster.children()
            except psutil.Error:
                children = []
            for c in children:
                try:
                    cmd = " ".join(c.cmdline())
                except psutil.Error:
                    continue
                mine = f" {db_prefix}_" in cmd
                groups["postgres backends (this run's DBs)" if mine else "postgres other (shared)"].append(c.pid)
        return groups

    return current


# --------------------------------------------------------------------------- HTTP

class Client:
    """A keep-alive HTTP/1.1 connection (http.client: far cheaper per request than requests)."""

    def __init__(self, base_url: str, timeout: float = 60):
        host, port = base_url.removeprefix("http://").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.conn: http.client.HTTPConnection | None = None
        self.reconnects = 0

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict | None = None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Content-Type": "application/json", "Accept": "application/json"} if data is not None else {}
        hdrs.update(headers or {})
        fresh = self.conn is None
        if fresh:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
            payload = resp.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            self.close()
            if fresh:
                raise
            # The server closed an idle keep-alive connection: send once more on a new one. Should the
            # first attempt have been processed after all, the retry shows up as a 409 (same email).
            self.reconnects += 1
            return self.request(method, path, body, headers)
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return resp.status, payload

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def create_meeting(stack: LocalStack, capacity: int, token: str) -> str:
    agenda = Client(stack.base_url("agenda"))
    auth = {"Authorization": f"Bearer {token}"}
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=30)
    status, body = agenda.request("POST", "/api/meetings", {
        "title": "Benchmark-Treffen", "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=6)).isoformat(), "timezone": "Europe/Berlin",
        "venue": {"name": "Regierungspräsidium Darmstadt", "address": "Luisenplatz 2, 64283 Darmstadt",
                  "room": "Ludwig-Bergsträßer-Saal"},
        "capacity": capacity, "description": "Lasttest",
    }, auth)
    if status != 201:
        raise RuntimeError(f"create meeting: {status} {body[:500]!r}")
    meeting_id = json.loads(body)["id"]
    status, body = agenda.request("POST", f"/api/meetings/{meeting_id}/publish", {}, auth)
    if status != 200:
        raise RuntimeError(f"publish meeting: {status} {body[:500]!r}")
    agenda.close()
    return meeting_id


def wait_for_meeting(stack: LocalStack, meeting_id: str, timeout: float = 30) -> float:
    reg = Client(stack.base_url("registration"))
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        status, _ = reg.request("GET", f"/api/meetings/{meeting_id}")
        if status == 200:
            reg.close()
            return time.monotonic() - t0
        time.sleep(0.05)
    raise TimeoutError(f"registration did not learn of meeting {meeting_id} within {timeout}s")


def run_load(base_url: str, meeting_id: str, n: int, concurrency: int, tag: str) -> tuple[list[dict], dict]:
    """N registrations from `concurrency` threads, each with its own keep-alive connection."""
    path = f"/api/meetings/{meeting_id}/registrations"
    payloads = [{"first_name": f"Erika{i}", "last_name": "Mustermann", "email": f"p{i:06d}.{tag}@example.org",
                 "organisation": "Ausländerbehörde Gießen", "function": "Sachbearbeitung",
                 "privacy_consent": True} for i in range(n)]
    results: list[dict | None] = [None] * n
    next_index = iter(range(n))
    index_lock = threading.Lock()
    thread_cpu: list[float] = []
    reconnects: list[int] = []
    barrier = threading.Barrier(concurrency + 1)

    def worker():
        client = Client(base_url)
        barrier.wait()
        while True:
            with index_lock:
                i = next(next_index, None)
            if i is None:
                break
            p = payloads[i]
            t0 = time.monotonic()
            try:
                status, body = client.request("POST", path, p)
                err = None
            except Exception as exc:  # connection refused, timeout: recorded, not fatal
                status, body, err = 0, b"", repr(exc)
                client.close()
            t1 = time.monotonic()
            rec = {"email": p["email"], "start": t0, "end": t1, "status": status}
            if status == 201:
                data = json.loads(body)
                # Double opt-in: the answer is "pending" with a held place or a waiting-list position; the
                # benchmark's participants never confirm, so that provisional outcome is what is checked.
                rec.update(reg_status="confirmed" if data.get("has_place") else "waitlisted",
                           waitlist_position=data.get("waitlist_position"), id=data.get("id"))
            else:
                rec["error"] = err or body[:300].decode(errors="replace")
            results[i] = rec
        client.close()
        with index_lock:
            thread_cpu.append(time.thread_time())
            reconnects.append(client.reconnects)

    threads = [threading.Thread(target=worker, name=f"client-{k}", daemon=True) for k in range(concurrency)]
    for t in threads:
        t.start()
    me = psutil.Process()
    cpu0 = me.cpu_times()
    barrier.wait()
    t_start = time.monotonic()
    for t in threads:
        t.join()
    t_end = time.monotonic()
    cpu1 = me.cpu_times()
    client = {
        "wall_s": t_end - t_start, "t_start": t_start, "t_end": t_end,
        "client_threads_cpu_s": sum(thread_cpu),
        "bench_process_cpu_s": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system),
        "keepalive_reconnects": sum(reconnects),
    }
    return [r for r in results if r is not None], client


# --------------------------------------------------------------------------- cleanup

def delete_broker_objects(amqp_url: str, namespace: str) -> list[str]:
    from treffpunkt_shared.testing import delete_namespace
    return delete_namespace(amqp_url, namespace)


def service_state(stack: LocalStack, namespace: str) -> dict:
    """Read-only look into the services' databases and queues after the run (what is still pending?)."""
    import sqlalchemy as sa
    state: dict = {}
    queries = {
        "agenda": {"outbox_rows": "SELECT count(*) FROM outbox"},
        "registration": {"registrations_by_status": "SELECT status, count(*) FROM registrations GROUP BY status",
                         "outbox_rows": "SELECT count(*) FROM outbox",
                         "meeting_counters": "SELECT capacity, seats_taken, waitlist_length FROM meetings"},
        "notify": {"mails_by_status": "SELECT status, count(*) FROM mails GROUP BY status",
                   "mails_attempts_gt_1": "SELECT count(*) FROM mails WHERE attempts > 1",
                   "mail_errors": "SELECT last_error, count(*) FROM mails WHERE last_error IS NOT NULL "
                                  "GROUP BY last_error LIMIT 5",
                   "processed_messages": "SELECT count(*) FROM processed_messages",
                   "outbox_rows": "SELECT count(*) FROM outbox"},
    }
    for service, qs in queries.items():
        engine = sa.create_engine(stack.database_url(service))
        try:
            with engine.connect() as conn:
                for key, q in qs.items():
                    try:
                        rows = conn.execute(sa.text(q)).all()
                        state[f"{service}.{key}"] = ([list(r) for r in rows] if len(rows) != 1 or len(rows[0]) != 1
                                                     else rows[0][0])
                    except Exception as exc:
                        conn.rollback()
                        state[f"{service}.{key}"] = f"error: {exc.__class__.__name__}"
        except Exception as exc:
            state[service] = repr(exc)
        finally:
            engine.dispose()
    try:
        from treffpunkt_shared.messaging.topology import Topology
        conn = pika_connection(stack.amqp_url)
        try:
            ch = conn.channel()
            for q in Topology(namespace).all_queues():
                state[f"queue {q.name}"] = ch.queue_declare(q.name, passive=True).method.message_count
        finally:
            conn.close()
    except Exception as exc:
        state["queues"] = repr(exc)
    return state


def scan_logs(log_dir: Path) -> dict[str, dict]:
    """Per log file: lines that look like trouble (JSON level warning/error/critical, tracebacks, gunicorn
    complaints) with a few examples, counts of JSON log events and of HTTP statuses in the access log."""
    keys = ("Traceback", "[ERROR]", "[CRITICAL]", "[WARNING]", "WORKER TIMEOUT", "Worker exiting", "Killed")
    out = {}
    for f in sorted(log_dir.glob("*.log")):
        hits, examples, status_counts, events = 0, [], Counter(), Counter()
        for line in f.read_text(errors="replace").splitlines():
            bad = any(k in line for k in keys)
            if line.startswith("{"):
                try:
                    entry = json.loads(line)
                    events[f"{entry.get('level')}:{entry.get('event')}"] += 1
                    bad = bad or entry.get("level") in ("warning", "error", "critical")
                except ValueError:
                    pass
            else:
                # gunicorn access log: ... "POST /api/... HTTP/1.1" 201 ...
                parts = line.split('" ')
                if len(parts) >= 2 and parts[1][:3].isdigit() and ('"POST ' in line or '"GET ' in line):
                    status_counts[parts[1][:3]] += 1
            if bad:
                hits += 1
                if len(examples) < 8:
                    examples.append(line[:400])
        out[f.name] = {"suspicious_lines": hits, "examples": examples, "access_status": dict(status_counts),
                       "events": dict(events)}
    return out


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), default="default")
    ap.add_argument("--n", type=int, help="registrations (default 2000; opening-rush 5000)")
    ap.add_argument("--concurrency", type=int, help="concurrent clients (default 32; opening-rush 64)")
    ap.add_argument("--capacity", type=int, help="meeting capacity (default n; opening-rush 300)")
    ap.add_argument("--email-timeout", type=float, help="seconds to wait for all emails after the load "
                    "(default max(120, n/10))")
    ap.add_argument("--settle", type=float, default=3, help="seconds to keep listening for duplicates")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "registrations.json")
    args = ap.parse_args(argv)
    preset = SCENARIOS[args.scenario]
    n = args.n if args.n is not None else preset["n"]
    concurrency = args.concurrency if args.concurrency is not None else preset["concurrency"]
    capacity = args.capacity if args.capacity is not None else (preset["capacity"] or n)
    concurrency = max(1, min(concurrency, n))

    from aiosmtpd.controller import Controller

    tag = uuid.uuid4().hex[:10]
    namespace, db_prefix = f"bench-{tag}", f"bench_{tag}"
    log_dir = ROOT / "bench" / "results" / "logs" / namespace
    handler = RecordingHandler()
    smtp_port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port, ready_timeout=10)
    ports = {s: free_port() for s in SERVICES}
    # All benchmark clients come from 127.0.0.1: lift the per-address rate limit (the per-email one stays).
    stack = LocalStack(namespace=namespace, database_prefix=db_prefix, ports=ports, smtp_host="127.0.0.1",
                       smtp_port=smtp_port, log_dir=log_dir,
                       extra_env={"registration": {"RATE_LIMIT_PER_ADDRESS": "100000000"}})
    sampler: ProcessSampler | None = None
    report: dict = {}
    cleanup: dict = {}
    exit_code = 1
    print(f"scenario={args.scenario} n={n} concurrency={concurrency} capacity={capacity} namespace={namespace}")
    print(f"logs: {log_dir}")
    try:
        controller.start()
        t = time.monotonic()
        stack.start(timeout=90)
        startup_s = time.monotonic() - t
        sampler = ProcessSampler(stack.pids(), infra=infra_pids(db_prefix))
        sampler.start()
        token = stack.admin_token()  # a throw-away administrator, signed in over HTTP like any client
        meeting_id = create_meeting(stack, capacity, token)
        propagation_s = wait_for_meeting(stack, meeting_id)
        print(f"stack up in {startup_s:.1f}s; meeting {meeting_id} known to registration after "
              f"{propagation_s * 1000:.0f} ms; firing {n} registrations ...", flush=True)

        sampler.mark()
        pg_activity = PgActivitySampler(stack.postgres_url, db_prefix)
        pg_activity.start()
        load_cpu0 = psutil.cpu_times()
        records, client = run_load(stack.base_url("registration"), meeting_id, n, concurrency, tag)
        load_cpu1 = psutil.cpu_times()
        pg_during_load = pg_activity.stop()
        expected = {r["email"].lower(): r for r in records if r["status"] == 201}
        print(f"load done in {client['wall_s']:.1f}s; waiting for {len(expected)} emails ...", flush=True)

        email_timeout = args.email_timeout if args.email_timeout is not None else max(120.0, n / 10)
        deadline = time.monotonic() + email_timeout
        while time.monotonic() < deadline:
            with handler.lock:
                got = sum(1 for e in expected if e in handler.arrivals)
            if got >= len(expected):
                break
            time.sleep(0.1)
        all_emails_at = time.monotonic()
        sampler.stop()  # CPU is counted from the load's start until the last email (or the timeout)
        time.sleep(args.settle)  # keep listening for late duplicates
        measured_wall = all_emails_at - client["t_start"]

        # ---- exactness
        with handler.lock:
            arrivals = {k: list(v) for k, v in handler.arrivals.items()}
            raw = {k: list(v) for k, v in handler.raw.items()}
            total_mails = handler.total
        missing = sorted(e for e in expected if e not in arrivals)
        duplicates = {e: len(v) for e, v in arrivals.items() if len(v) > 1}
        unexpected = sorted(e for e in arrivals if e not in expected)
        statuses = Counter(r["status"] for r in records)
        reg_statuses = Counter(r.get("reg_status") for r in records if r["status"] == 201)
        confirmed = reg_statuses.get("confirmed", 0)
        waitlisted = reg_statuses.get("waitlisted", 0)
        positions = sorted(r["waitlist_position"] for r in records if r.get("reg_status") == "waitlisted")
        parser = BytesParser(policy=policy.default)
        kind_mismatch = []
        for email, r in expected.items():
            for body in raw.get(email, []):
                message = parser.parsebytes(body)
                subject = str(message.get("Subject", ""))
                # The opt-in mail says whether a place is reserved or which waiting-list place it is.
                text = message.get_body(preferencelist=("plain",)).get_content()
                kind = "waitlisted" if "Warteliste" in text else "confirmed"
                if kind != r.get("reg_status"):
                    kind_mismatch.append({"email": email, "status": r.get("reg_status"), "subject": subject})
        # Registration's own view: places left must be max(capacity - confirmed, 0).
        reg = Client(stack.base_url("registration"))
        st, body = reg.request("GET", f"/api/meetings/{meeting_id}")
        reg.close()
        places_left = json.loads(body).get("places_left") if st == 200 else None

        checks = {
            "all_requests_201": statuses.get(201, 0) == n,
            "confirmed_eq_min_n_capacity": confirmed == min(n, capacity),
            "waitlisted_eq_rest": waitlisted == max(n - capacity, 0),
            "waitlist_positions_1_to_k": positions == list(range(1, waitlisted + 1)),
            "every_participant_one_email": not missing and not duplicates,
            "no_unexpected_recipients": not unexpected,
            "email_kind_matches_status": not kind_mismatch,
            "places_left_matches": places_left == max(capacity - confirmed, 0),
        }

        # ---- latencies
        ok = [r for r in records if r["status"] == 201]
        req_lat = [r["end"] - r["start"] for r in records]
        ok_lat = [r["end"] - r["start"] for r in ok]
        e2e = [arrivals[r["email"].lower()][0] - r["start"] for r in ok if r["email"].lower() in arrivals]
        last_email = max((v[0] for k, v in arrivals.items() if k in expected), default=None)

        processes = {}
        for name in sampler.groups:
            processes[name] = {"cpu_s": round(sampler.cpu_since_mark(name), 2),
                               "peak_rss_mb": round(sampler.peak_rss[name] / 2**20, 1),
                               "processes": sampler.nprocs[name],
                               "peak_rss_mb_per_process": {str(pid): round(v / 2**20, 1)
                                                           for pid, v in sampler.peak_hwm[name].items()}}
        infra = {name: {"cpu_s": round(sampler.cpu_since_mark(name), 2)} for name in sampler.infra_names}
        machine_busy = sum(getattr(load_cpu1, f) - getattr(load_cpu0, f) for f in ("user", "system", "nice", "irq",
                                                                                    "softirq", "steal"))
        machine_total = machine_busy + (load_cpu1.idle - load_cpu0.idle) + (load_cpu1.iowait - load_cpu0.iowait)

        report = {
            "scenario": args.scenario, "n": n, "concurrency": concurrency, "capacity": capacity,
            "namespace": namespace, "database_prefix": db_prefix, "meeting_id": meeting_id,
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "loadavg_at_end": os.getloadavg(),
                        "cpu_busy_pct_during_load": round(100 * machine_busy / machine_total, 1)
                        if machine_total else None},
            "web_workers": stack.web_workers,
            "stack_startup_s": round(startup_s, 2), "meeting_propagation_ms": round(propagation_s * 1000, 1),
            "load_wall_s": round(client["wall_s"], 3),
            "accepted_per_s": round(len(ok) / client["wall_s"], 1) if client["wall_s"] else None,
            "all_emails_after_s": round(measured_wall, 3),
            "emails_per_s": round(len(e2e) / (last_email - client["t_start"]), 1) if last_email else None,
            "request_latency_ms": {"p50": ms(percentile(req_lat, 50)), "p95": ms(percentile(req_lat, 95)),
                                   "p99": ms(percentile(req_lat, 99)), "max": ms(max(req_lat, default=None)),
                                   "p50_201": ms(percentile(ok_lat, 50))},
            "register_to_email_ms": {"p50": ms(percentile(e2e, 50)), "p95": ms(percentile(e2e, 95)),
                                     "p99": ms(percentile(e2e, 99)), "max": ms(max(e2e, default=None))},
            "http_status_counts": {str(k): v for k, v in sorted(statuses.items())},
            "non_2xx": sum(v for k, v in statuses.items() if not 200 <= k < 300),
            "non_2xx_examples": [{"email": r["email"], "status": r["status"], "error": r.get("error")}
                                 for r in records if not 200 <= r["status"] < 300][:10],
            "registration_status_counts": dict(reg_statuses),
            "places_left": places_left,
            "emails": {"expected": len(expected), "received_total": total_mails,
                       "participants_with_email": sum(1 for e in expected if e in arrivals),
                       "missing": len(missing), "missing_examples": missing[:10],
                       "duplicates": sum(v - 1 for v in duplicates.values()),
                       "duplicate_examples": dict(list(duplicates.items())[:10]),
                       "unexpected_recipients": len(unexpected), "kind_mismatches": len(kind_mismatch),
                       "kind_mismatch_examples": kind_mismatch[:5]},
            "email_timeout_s": email_timeout,
            "checks": checks, "ok": all(checks.values()),
            "client": {"threads_cpu_s": round(client["client_threads_cpu_s"], 2),
                       "bench_process_cpu_s_during_load": round(client["bench_process_cpu_s"], 2),
                       "threads_cpu_pct_of_one_core": round(100 * client["client_threads_cpu_s"] / client["wall_s"], 1),
                       "keepalive_reconnects": client["keepalive_reconnects"], "http_client": "http.client keep-alive"},
            "processes": processes, "shared_infrastructure": infra,
            "pg_backends_avg_during_load": pg_during_load,
            "log_dir": str(log_dir),
        }
        exit_code = 0 if report["ok"] else 2
        report["service_state_after"] = service_state(stack, namespace)
    except BaseException as exc:
        report.setdefault("error", repr(exc))
        import traceback
        traceback.print_exc()
    finally:
        if sampler is not None and sampler.is_alive():
            sampler.stop()
        try:
            stack.stop()
        except Exception as exc:
            cleanup["stop_error"] = repr(exc)
        try:
            stack.drop_databases()
            cleanup["databases_dropped"] = [f"{db_prefix}_{s}" for s in SERVICES]
        except Exception as exc:
            cleanup["drop_error"] = repr(exc)
        try:
            cleanup["broker_objects_deleted"] = len(delete_broker_objects(stack.amqp_url, namespace))
        except Exception as exc:
            cleanup["broker_error"] = repr(exc)
        try:
            controller.stop()
        except Exception:
            pass
        report["cleanup"] = cleanup
        if log_dir.exists():
            report["logs"] = scan_logs(log_dir)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, default=str))
        if "n" in report and "processes" in report:
            print_table(report)
        for name, info in report.get("logs", {}).items():
            if info["suspicious_lines"]:
                print(f"log {name}: {info['suspicious_lines']} suspicious lines, e.g. {info['examples'][0]}")
        if report.get("service_state_after"):
            pending = {k: v for k, v in report["service_state_after"].items()
                       if k.startswith(("notify.mails_by", "notify.mail_errors")) or (k.endswith("outbox_rows") and v)
                       or (k.startswith("queue ") and v)}
            print(f"service state after run: {json.dumps(pending)}")
        print(f"cleanup: {json.dumps(cleanup)}")
        print(f"wrote {args.out}")
    return exit_code


def print_table(r: dict) -> None:
    rl, e2e, em, cl = r["request_latency_ms"], r["register_to_email_ms"], r["emails"], r["client"]
    rows = [
        ("scenario", f"{r['scenario']}  n={r['n']}  concurrency={r['concurrency']}  capacity={r['capacity']}"),
        ("accepted registrations/s", f"{r['accepted_per_s']}  ({r['http_status_counts'].get('201', 0)} in "
                                     f"{r['load_wall_s']:.2f} s)"),
        ("request latency ms", f"p50 {rl['p50']}  p95 {rl['p95']}  p99 {rl['p99']}  max {rl['max']}"),
        ("register→email ms", f"p50 {e2e['p50']}  p95 {e2e['p95']}  p99 {e2e['p99']}  max {e2e['max']}"),
        ("all emails in after", f"{r['all_emails_after_s']:.2f} s  ({r['emails_per_s']} emails/s)"),
        ("emails received/expected", f"{em['participants_with_email']}/{em['expected']}  (total mails "
                                     f"{em['received_total']}, duplicates {em['duplicates']}, missing "
                                     f"{em['missing']}, unexpected {em['unexpected_recipients']}, wrong kind "
                                     f"{em['kind_mismatches']})"),
        ("non-2xx responses", f"{r['non_2xx']}  {r['http_status_counts']}"),
        ("confirmed / waitlisted", f"{r['registration_status_counts'].get('confirmed', 0)} / "
                                   f"{r['registration_status_counts'].get('waitlisted', 0)}  (places_left "
                                   f"{r['places_left']})"),
        ("client CPU", f"{cl['threads_cpu_s']} s in client threads ({cl['threads_cpu_pct_of_one_core']}% of a "
                       f"core); bench process {cl['bench_process_cpu_s_during_load']} s; reconnects "
                       f"{cl['keepalive_reconnects']}"),
        ("machine CPU busy during load", f"{r['machine']['cpu_busy_pct_during_load']}% of {r['machine']['cpus']} "
                                         f"cores; loadavg {tuple(round(x, 2) for x in r['machine']['loadavg_at_end'])}"),
        ("checks", "ALL OK" if r["ok"] else "FAILED: " + ", ".join(k for k, v in r["checks"].items() if not v)),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print()
    print(f"{'process (CPU from load start to last email)':<44} {'procs':>5} {'CPU s':>8} {'peak RSS MB':>12}")
    for name, p in r["processes"].items():
        print(f"{name:<44} {p['processes']:>5} {p['cpu_s']:>8.2f} {p['peak_rss_mb']:>12.1f}")
    total = sum(p["cpu_s"] for p in r["processes"].values())
    pg = r.get("pg_backends_avg_during_load") or {}
    print(f"{'stack total':<44} {'':>5} {total:>8.2f}")
    for name, p in r["shared_infrastructure"].items():
        print(f"{name:<44} {'':>5} {p['cpu_s']:>8.2f} {'-':>12}")
    print()
    if pg:
        print("PostgreSQL backends of this run during the load (average count per sample):")
        for k, v in list(pg.items())[:8]:
            print(f"  {v:>6.2f}  {k}")
        print()


if __name__ == "__main__":
    sys.exit(main())
