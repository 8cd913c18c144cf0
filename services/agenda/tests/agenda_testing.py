"""Helpers for the agenda's tests (fixtures are in conftest.py): the test secret, tokens for accounts."""
from __future__ import annotations

import time

from treffpunkt_shared.auth import Principal, sign_token

SECRET = "agenda-test-secret-" + "k" * 32
PASSWORD = "Wissensmanagement-2016"


def token_for(account: dict, secret: str = SECRET, *, signed_in_at: float | None = None) -> str:
    principal = Principal(id=account["id"], name=account["name"], email=account["email"], role=account["role"],
                          meeting_ids=frozenset(account.get("meeting_ids", ())),
                          signed_in_at=int(time.time() if signed_in_at is None else signed_in_at))
    return sign_token(principal, secret)


def bearer(account: dict, **kwargs) -> dict:
    return {"Authorization": f"Bearer {token_for(account, **kwargs)}"}
