"""Broadcast benchmark: one organiser message to N participants through the local stack to a local SMTP server.

    .venv/bin/python bench/broadcast.py [--n 5000] [--senders 2] [--workers 1] [--out bench/results/broadcast.json]

Starts its own SMTP sink (aiosmtpd, in this process) and notify from the LocalStack (own broker namespace, own
database, free port; notify only: the broadcast does not touch the other services). The meeting arrives as a
``meeting.published`` event; the N recipients are written straight into notify's read model (``--seed db``,
the default) or arrive as N ``registration.confirmed`` events with their confirmation mails (``--seed events``,
slow: every confirmation renders an iCalendar invitation). Then it creates the broadcast over notify's HTTP API as an organiser, previews it,
sends it and waits until all N broadcast mails have arrived. Reports emails/s, the time until the last
arrives, exactness (missing, duplicates) and notify's CPU; prints a table and writes JSON. Everything it
created is removed at the end, also on failure.
"""
from __future__ import annotations

import argparse
import json
import platform
import socket
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "deploy"))
from localstack import LocalStack  # noqa: E402

from treffpunkt_shared.auth import ADMINISTRATOR, Principal, sign_token  # noqa: E402
from treffpunkt_shared.contracts import MEETING_PUBLISHED, REGISTRATION_CONFIRMED, encode, make_envelope  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """aiosmtpd handler: arrival time per (subject kind, recipient)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.arrivals: dict[str, list[tuple[str, float]]] = {"confirmation": [], "broadcast": []}

    async def handle_DATA(self, server, session, envelope):
        kind = "broadcast" if b"X-Bench-Broadcast" in envelope.original_content[:4000] or \
            b"Benchmark-Rundschreiben" in envelope.original_content[:4000] else "confirmation"
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.arrivals[kind].append((rcpt, time.monotonic()))
        return "250 OK"

    def count(self, kind: str) -> int:
        with self.lock:
            return len(self.arrivals[kind])


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not reached within {timeout}s")


def pika_channel(amqp_url: str):
    import pika
    url = amqp_url.rstrip("/") + "/%2F" if amqp_url.endswith("//") else amqp_url
    conn = pika.BlockingConnection(pika.URLParameters(url))
    channel = conn.channel()
    channel.confirm_delivery()
    return conn, channel


def publish(channel, namespace, contract, payload) -> None:
    import pika
    envelope = make_envelope(contract, payload, producer="bench")
    channel.basic_publish(f"{namespace}.events", contract.type, encode(envelope),
                          pika.BasicProperties(delivery_mode=2, content_type="application/json",
                                               message_id=envelope["id"]))


def api(base: str, path: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(base + path, method="POST" if body is not None else "GET",
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def cpu_seconds(pids) -> float:
    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc] + proc.children(recursive=True):
                t = p.cpu_times()
                total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=2, help="MAIL_SENDERS per notify worker")
    parser.add_argument("--workers", type=int, default=1, help="notify worker processes")
    parser.add_argument("--seed", choices=("db", "events"), default="db",
                        help="db: recipients written straight into notify's read model (fast); events: N "
                             "registration.confirmed events through the broker, each with its confirmation mail")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "broadcast.json"))
    args = parser.parse_args(argv)

    from aiosmtpd.controller import Controller
    sink = Sink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    stack = LocalStack(namespace=namespace, database_prefix=f"bench_{uuid.uuid4().hex[:8]}",
                       ports={"agenda": free_port(), "registration": free_port(), "notify": free_port()},
                       smtp_host="127.0.0.1", smtp_port=smtp_port, log_dir=ROOT / "var" / "bench-broadcast",
                       extra_env={"notify": {"MAIL_SENDERS": str(args.senders), "SCHEDULER_INTERVAL_S": "1"}})
    meeting_id = str(uuid.uuid4())
    conn = None
    result: dict = {}
    try:
        import subprocess
        subprocess.run([stack.python, "-m", "treffpunkt_notify", "migrate"], env=stack.env("notify"), check=True,
                       cwd=ROOT, stdout=subprocess.DEVNULL)
        stack.start_process("notify-web")
        for i in range(args.workers):
            proc = stack._spawn(f"notify-worker-{i}", "notify", [stack.python, "-m", "treffpunkt_notify", "worker"])
        wait_for(lambda: _ready(stack.base_url("notify")), 60, "notify ready")
        time.sleep(2)  # the worker declares the topology when its consumer starts
        conn, channel = pika_channel(stack.amqp_url)
        start = datetime(2031, 9, 16, 8, 0, tzinfo=timezone.utc)
        snapshot = {"meeting_id": meeting_id, "title": "Landesnetzwerktreffen (Benchmark)",
                    "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=6)).isoformat(),
                    "venue": {"name": "Regierungspräsidium Darmstadt", "address": "Luisenplatz 2, 64283 Darmstadt"}}
        publish(channel, namespace, MEETING_PUBLISHED, {**snapshot, "status": "published", "capacity": args.n,
                                                        "revision": 1})
        seeded_at = time.monotonic()
        if args.seed == "db":
            _seed_read_model(stack.database_url("notify"), meeting_id, args.n)
        for i in (range(args.n) if args.seed == "events" else ()):
            rid = str(uuid.uuid4())
            publish(channel, namespace, REGISTRATION_CONFIRMED, {
                "registration_id": rid, "status": "confirmed", "meeting": snapshot,
                "participant": {"first_name": "Teilnehmerin", "last_name": f"Nr. {i}",
                                "email": f"p{i:05d}@example.org", "organisation": f"Ausländerbehörde {i % 40}"},
                "links": {"manage_url": f"https://example.org/r/{rid}"}})
        if args.seed == "events":
            wait_for(lambda: sink.count("confirmation") >= args.n, 1800, "confirmation mails")
        else:
            wait_for(lambda: _meeting_known(stack.database_url("notify"), meeting_id), 60, "meeting in notify")
        seeded = time.monotonic() - seeded_at

        pids = [p.pid for name, p in stack.processes.items() if name.startswith("notify")]
        token = sign_token(Principal(id=str(uuid.uuid4()), name="Benchmark", email="bench@example.org",
                                     role=ADMINISTRATOR, meeting_ids=frozenset(), signed_in_at=int(time.time())),
                           stack.session_secret)
        base = stack.base_url("notify")
        draft = api(base, f"/api/meetings/{meeting_id}/broadcasts", token, {
            "audience": "meeting", "subject": "Benchmark-Rundschreiben",
            "body": "Liebe Teilnehmende,\n\nbitte beachten Sie die geänderte Anreise."})
        assert draft["recipient_count"] == args.n, draft["recipient_count"]
        cpu_before = cpu_seconds(pids)
        sent_at = time.monotonic()
        api(base, f"/api/meetings/{meeting_id}/broadcasts/{draft['id']}/send", token, {})
        wait_for(lambda: sink.count("broadcast") >= args.n, 1800, "broadcast mails")
        time.sleep(3)  # duplicates would arrive now
        cpu_used = cpu_seconds(pids) - cpu_before
        with sink.lock:
            arrivals = list(sink.arrivals["broadcast"])
        counts = Counter(r for r, _ in arrivals)
        first = min(t for _, t in arrivals) - sent_at
        last = max(t for _, t in arrivals) - sent_at
        result = {
            "n": args.n, "senders": args.senders, "workers": args.workers,
            "broadcast_received": len(arrivals), "distinct_recipients": len(counts),
            "duplicates": sum(c - 1 for c in counts.values() if c > 1),
            "missing": args.n - len(counts),
            "time_to_first_s": round(first, 2), "time_to_last_s": round(last, 2),
            "emails_per_s": round(args.n / last, 1),
            "notify_cpu_s": round(cpu_used, 1), "notify_cpu_ms_per_mail": round(cpu_used * 1000 / args.n, 2),
            "seed": args.seed,
            "seed_confirmations_per_s": round(args.n / seeded, 1) if args.seed == "events" else None,
            "machine": {"cpus": psutil.cpu_count(), "python": platform.python_version()},
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join([".venv/bin/python", "bench/broadcast.py"] + (argv or sys.argv[1:])),
        }
    finally:
        if conn is not None:
            conn.close()
        stack.stop()
        try:
            from treffpunkt_shared.db import drop_database
            drop_database(stack.database_url("notify"))
            _delete_namespace(stack.amqp_url, namespace)
        finally:
            controller.stop()
    rows = [("recipients", result["n"]), ("broadcast mails received", result["broadcast_received"]),
            ("missing / duplicates", f"{result['missing']} / {result['duplicates']}"),
            ("time to first mail", f"{result['time_to_first_s']} s"),
            ("time to last mail", f"{result['time_to_last_s']} s"),
            ("emails/s (n / time to last)", result["emails_per_s"]),
            ("notify CPU per mail", f"{result['notify_cpu_ms_per_mail']} ms"),
            ("seeding", result["seed"] + (f", {result['seed_confirmations_per_s']} confirmation mails/s"
                                          if result["seed_confirmations_per_s"] else ""))]
    width = max(len(k) for k, _ in rows)
    print(f"\nbroadcast, n={result['n']}, {result['workers']} worker(s) x {result['senders']} sender(s)")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {out}")
    return 0 if result["missing"] == 0 and result["duplicates"] == 0 else 1


def _seed_read_model(database_url: str, meeting_id: str, n: int) -> None:
    """N confirmed recipients in notify's read model, as N registration.confirmed events would leave them."""
    import sqlalchemy as sa
    from treffpunkt_notify.models import recipients
    engine = sa.create_engine(database_url)
    now = datetime.now(timezone.utc)
    rows = []
    for i in range(n):
        rid = str(uuid.uuid4())
        rows.append({"registration_id": rid, "meeting_id": meeting_id, "sequence": 1, "status": "confirmed",
                     "waitlist_position": None, "organisation": f"Ausländerbehörde {i % 40}",
                     "participant": {"first_name": "Teilnehmerin", "last_name": f"Nr. {i}",
                                     "email": f"p{i:05d}@example.org", "organisation": f"Ausländerbehörde {i % 40}",
                                     "function": "", "language": "de"},
                     "rounds": [], "links": {"manage_url": f"https://example.org/r/{rid}"},
                     "registered_at": now, "confirmed_at": now, "cancelled_at": None, "updated_at": now})
    with engine.begin() as tx:
        tx.execute(recipients.insert(), rows)
    engine.dispose()


def _meeting_known(database_url: str, meeting_id: str) -> bool:
    import sqlalchemy as sa
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT 1 FROM meetings WHERE meeting_id = :m AND state IS NOT NULL"),
                                {"m": meeting_id}).first() is not None
    finally:
        engine.dispose()


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
            return r.status == 200
    except Exception:
        return False


def _delete_namespace(amqp_url: str, namespace: str) -> None:
    from treffpunkt_shared.messaging.topology import Topology
    conn, channel = pika_channel(amqp_url)
    try:
        for q in Topology(namespace).all_queues():
            channel.queue_delete(q.name)
        channel.exchange_delete(f"{namespace}.events")
        channel.exchange_delete(f"{namespace}.direct")
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
