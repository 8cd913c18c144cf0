"""Several notify worker processes at once, one killed mid-stream: every mail once. And the send rate limit."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import sqlalchemy as sa

from notify_events import registration, start_worker
from treffpunkt_notify.mail_queue import RateLimit
from treffpunkt_notify.models import mails
from treffpunkt_shared.contracts import REGISTRATION_CONFIRMED
from treffpunkt_shared.testing import wait_until


def spawn_worker(settings, smtp_server, log_path):
    env = {**os.environ, "DATABASE_URL": settings.database_url, "AMQP_URL": settings.amqp_url,
           "TREFFPUNKT_NAMESPACE": settings.namespace, "SMTP_HOST": smtp_server.host,
           "SMTP_PORT": str(smtp_server.port), "MAIL_SENDERS": "2", "MAIL_RETRY_DELAYS_S": "0,0",
           "SESSION_SECRET": settings.session_secret, "SCHEDULER_INTERVAL_S": "1"}
    return subprocess.Popen([sys.executable, "-m", "treffpunkt_notify", "worker"], env=env,
                            stdout=open(log_path, "wb"), stderr=subprocess.STDOUT)


def consumers(broker, queue) -> int:
    import pika.exceptions
    try:
        channel = broker.conn.channel()
        count = channel.queue_declare(queue, passive=True).method.consumer_count
        channel.close()
        return count
    except pika.exceptions.ChannelClosedByBroker:
        return 0  # not declared yet


def test_three_workers_with_one_killed_mid_stream_deliver_every_mail_exactly_once(
        notify_settings, notify_engine, smtp_server, events, broker, tmp_path):
    n = 300
    workers = [spawn_worker(notify_settings, smtp_server, tmp_path / f"worker-{i}.log") for i in range(3)]
    try:
        wait_until(lambda: consumers(broker, f"{notify_settings.namespace}.notify") == 3, timeout=60,
                   interval=0.5, message="three consumers on notify's queue")
        addresses = [f"p{i:04d}@example.org" for i in range(n)]
        for address in addresses:
            events.publish(REGISTRATION_CONFIRMED, registration(email=address))
        wait_until(lambda: len(smtp_server.handler.received) >= n // 4, timeout=60, message="a quarter delivered")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        with notify_engine.connect() as conn:
            def all_sent():
                return conn.execute(sa.select(sa.func.count()).where(mails.c.status == "sent")).scalar() == n
            wait_until(all_sent, timeout=120, message="every mail sent")
        time.sleep(2)  # a duplicate would arrive now
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(15)
            except subprocess.TimeoutExpired:
                w.kill()
    counts = Counter(m.rcpt_tos[0] for m in smtp_server.handler.received)
    assert [a for a, c in counts.items() if c > 1] == []  # never twice
    with notify_engine.connect() as conn:
        statuses = Counter(conn.execute(sa.select(mails.c.status)).scalars())
    assert statuses == {"sent": n}
    # Never lost, but for the one documented window (mailer.py): a worker killed after committing "sent" and
    # before its final "." went out. At most the mails in flight in the killed worker's two senders.
    missing = set(addresses) - set(counts)
    assert len(missing) <= 2, f"lost {sorted(missing)}"


def test_the_rate_limit_paces_sends_after_a_burst_of_one_second():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limit = RateLimit(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(30):
        limit.acquire()
    # 10 at once (one second's worth), then one every 0.1 s: 20 more take 2 s.
    assert round(now[0], 6) == 2.0 and len(slept) == 20


def test_a_worker_with_a_rate_limit_sends_no_faster_than_it(notify_settings, notify_engine, smtp_server, events):
    from dataclasses import replace

    settings = replace(notify_settings, mail_rate_per_s=20)
    parts = start_worker(settings, notify_engine)
    try:
        started = time.monotonic()
        for i in range(60):
            events.publish(REGISTRATION_CONFIRMED, registration(email=f"r{i}@example.org"))
        smtp_server.handler.wait_for(60, timeout=60)
        elapsed = time.monotonic() - started
    finally:
        for part in parts.values():
            part.stop()
    assert elapsed >= 1.9  # 20 in the first second's burst, 40 more at 20/s
