"""The local stack as processes for a test module (deploy/localstack.py), and everything it made removed after."""
from __future__ import annotations

import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

from treffpunkt_shared.testing import delete_namespace, free_port

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "deploy"))
from localstack import LocalStack  # noqa: E402


@contextmanager
def running_stack(name: str, *, amqp_url: str, smtp_port: int, log_dir: Path, web_workers: dict,
                  extra_env: dict):
    """A started LocalStack with an administrator's bearer token (``stack.token``), mail to ``smtp_port``;
    stopped afterwards, its databases dropped, its queues and exchanges deleted."""
    tag = uuid.uuid4().hex[:8]
    stack = LocalStack(namespace=f"t-{name}-{tag}", database_prefix=f"t_{name}_{tag}", amqp_url=amqp_url,
                       smtp_host="127.0.0.1", smtp_port=smtp_port,
                       ports={"agenda": free_port(), "registration": free_port(), "notify": free_port()},
                       log_dir=log_dir, web_workers=web_workers, extra_env=extra_env)
    try:
        stack.start()
        stack.token = stack.admin_token()  # an administrator's bearer token, from the agenda over HTTP
        yield stack
    finally:
        stack.stop()
        stack.drop_databases()
        ladder = (extra_env.get("*", {}).get("RETRY_DELAYS_MS") or "").split(",")
        delete_namespace(amqp_url, stack.namespace, retry_delays_ms=[int(d) for d in ladder if d.strip()])
