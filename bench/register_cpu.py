"""CPU per registration in the registration service's request path, in one process, one thread.

The full benchmark (``registrations.py``) shows where the machine's two cores go, but every process there
competes with every other one. This script isolates the part a registration costs in the web process:
the Flask app (a test client, so no HTTP server), marshmallow, the rate limit, the transaction with the
outbox, against a fresh PostgreSQL database of its own (dropped afterwards). It prints CPU-ms and wall-ms
per registration and, with ``--profile``, the functions that take the most CPU (cProfile).

    .venv/bin/python bench/register_cpu.py --n 2000
    .venv/bin/python bench/register_cpu.py --n 1000 --capacity 100    # mostly waiting list
    .venv/bin/python bench/register_cpu.py --n 1000 --profile
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "services" / "registration" / "tests"))

from registration_testing import SECRET, publish_meeting  # noqa: E402
from treffpunkt_registration.app import MIGRATIONS, create_app  # noqa: E402
from treffpunkt_registration.config import Settings  # noqa: E402
from treffpunkt_shared.db import drop_database, ensure_database, make_engine, upgrade_database  # noqa: E402

POSTGRES_URL = os.environ.get("POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--capacity", type=int, default=None, help="places (default: n)")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "register_cpu.json"))
    args = parser.parse_args()

    url = f"{POSTGRES_URL}/bench_cpu_{uuid.uuid4().hex[:10]}"
    ensure_database(url)
    try:
        settings = Settings(database_url=url, session_secret=SECRET, public_base_url="http://anmeldung.test",
                            rate_limit_per_address=10 ** 9)
        engine = make_engine(url, pool_size=2)
        upgrade_database(engine, MIGRATIONS)
        meeting_id = publish_meeting(engine, capacity=args.capacity or args.n + args.warmup)
        client = create_app(settings, engine=engine).test_client()

        def register(i: int) -> None:
            response = client.post(f"/api/meetings/{meeting_id}/registrations", json={
                "first_name": "Erika", "last_name": f"Muster{i}", "email": f"erika{i}@example.org",
                "organisation": f"Ausländerbehörde {i % 25}", "function": "Sachgebietsleitung",
                "privacy_consent": True}, headers={"Idempotency-Key": uuid.uuid4().hex})
            if response.status_code != 201:
                raise SystemExit(f"registration {i}: {response.status_code} {response.get_data(as_text=True)[:300]}")

        for i in range(args.warmup):
            register(-1 - i)
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for i in range(args.n):
            register(i)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        engine.dispose()
    finally:
        drop_database(url)

    result = {"n": args.n, "capacity": args.capacity or args.n + args.warmup,
              "cpu_ms_per_registration": round(1000 * cpu / args.n, 3),
              "wall_ms_per_registration": round(1000 * wall / args.n, 3), "profiled": args.profile}
    print(f"{'registrations':<28}{args.n}  (capacity {result['capacity']})")
    print(f"{'CPU ms / registration':<28}{result['cpu_ms_per_registration']}  (this process only; PostgreSQL not counted)")
    print(f"{'wall ms / registration':<28}{result['wall_ms_per_registration']}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
