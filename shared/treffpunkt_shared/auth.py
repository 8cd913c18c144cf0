"""Who is asking: the organiser sign-in that all three services honour.

The agenda service checks the password and issues a token: the organiser's id, name, email, role and
assigned meetings, signed with itsdangerous (HMAC-SHA256 with a key derived by HMAC from SESSION_SECRET
and a treffpunkt-specific salt) and time-stamped. Every service verifies it with the same SESSION_SECRET, so
one sign-in counts everywhere, and none of them calls the agenda on a request's path. Browsers carry the
token in an HttpOnly cookie (see :mod:`.cookies` for why it reaches every service on the host); API
clients send ``Authorization: Bearer <token>``. Nothing unsigned is ever believed.

A view uses it like this::

    install_auth(app, settings.session_secret, sign_in_url=settings.sign_in_url,
                 cookie_secure=settings.cookie_secure)            # in the app factory

    bp.before_request(organiser_required)                          # every view of a blueprint, or
    @organiser_required                                             # one view
    def deliveries():
        principal = current_principal()
        ...
    def show(meeting_id):
        require_meeting(meeting_id)                                # 403 unless assigned (or admin)

A token lives at most ``max_age_s`` (8 hours) after the password was checked, also when the agenda
re-issues it with changed assignments: the sign-in time travels inside it.

Revocation. A signed token cannot be recalled, so each service asks, per request, one primary-key look-up
(``refresh``) whether the account's access changed since. The agenda reads its own accounts. Registration
and notify read their copy of ``organiser.access_changed`` (:mod:`.access`), which the agenda writes through
its outbox with every change: deactivated or reactivated, role, meetings, password, signed out. Until a
service has consumed the event (normally well under a second) it believes the token. There:

* a deactivated account, or a token signed in before the account's ``not_before``, counts as not signed in
  (401, or the redirect to the sign-in page; a cookie is cleared);
* role and assigned meetings are the account's current ones, not the token's;
* an account no event has mentioned yet is as its token says.

``not_before`` is set by signing out, by a password change and by deactivation (so that reactivating an
account does not revive the tokens it had). Signing out ends *every* session of the account, on every
device and every copied bearer token: a token carries no session id, so "before this moment" is the one
thing a service can check, and a sign-out that left a copied token working would be no sign-out at all.
"""
from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode

from flask import Flask, Response, abort, current_app, g, redirect, request
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Forbidden, Unauthorized

from . import cookies
from .contracts import ADMINISTRATOR, ORGANISER  # noqa: F401 (re-exported; the roles are the contracts' words)
from .contracts import ORGANISER_ROLES as ROLES
from .http import wants_json
from .timeutil import as_utc

SESSION_COOKIE = "treffpunkt_session"
TOKEN_SALT = "treffpunkt.organiser-session.v1"
DEFAULT_MAX_AGE_S = 8 * 3600
MIN_SECRET_LENGTH = 32
MAX_TOKEN_LENGTH = 8192  # far above a real token; longer input is refused before any decoding
CLOCK_SKEW_S = 60  # servers' clocks may differ this much

SIGN_IN_REQUIRED = "Anmeldung als Organisator erforderlich. / Organiser sign-in required."
NOT_YOUR_MEETING = ("Sie sind für dieses Treffen nicht eingetragen. / "
                    "You are not assigned to this meeting.")
ADMIN_ONLY = "Nur für Administratoren. / Administrators only."

_EXTENSION = "treffpunkt_auth"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


@dataclass(frozen=True)
class Principal:
    """A signed-in organiser as the token (or, in the agenda, the database) describes them."""

    id: str
    name: str
    email: str
    role: str
    meeting_ids: frozenset[str] = frozenset()
    signed_in_at: int = 0  # Unix time of the password check; re-issued tokens keep it

    def is_admin(self) -> bool:
        return self.role == ADMINISTRATOR

    def can_manage(self, meeting_id) -> bool:
        return self.is_admin() or str(meeting_id) in self.meeting_ids


# ------------------------------------------------------------------ the token

def _serializer(secret: str) -> URLSafeTimedSerializer:
    # SHA-256 rather than itsdangerous' SHA-1 default: not because HMAC-SHA1 is broken, but so no audit has to ask.
    return URLSafeTimedSerializer(secret, salt=TOKEN_SALT,
                                  signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256})


def sign_token(principal: Principal, secret: str) -> str:
    claims = {"v": 1, "id": principal.id, "name": principal.name, "email": principal.email,
              "role": principal.role, "m": sorted(principal.meeting_ids), "t": int(principal.signed_in_at)}
    return _serializer(secret).dumps(claims)


def _from_claims(claims) -> Principal | None:
    if not isinstance(claims, dict) or claims.get("v") != 1:
        return None
    texts = [claims.get(key) for key in ("id", "name", "email", "role")]
    meetings, signed_in_at = claims.get("m"), claims.get("t")
    if not all(isinstance(t, str) for t in texts) or claims["role"] not in ROLES or not claims["id"]:
        return None
    if not isinstance(meetings, list) or not all(isinstance(m, str) for m in meetings):
        return None
    if not isinstance(signed_in_at, int) or isinstance(signed_in_at, bool):
        return None
    return Principal(id=claims["id"], name=claims["name"], email=claims["email"], role=claims["role"],
                     meeting_ids=frozenset(meetings), signed_in_at=signed_in_at)


def verify_token(token: str | None, secret: str, *, max_age_s: int = DEFAULT_MAX_AGE_S,
                 now: float | None = None) -> Principal | None:
    """The principal in a token signed with ``secret`` and not expired; None for anything else."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    now = time.time() if now is None else now
    try:
        claims, issued = _serializer(secret).loads(token, return_timestamp=True)
    except (BadData, ValueError, TypeError):
        return None
    principal = _from_claims(claims)
    if principal is None:
        return None
    for moment in (issued.timestamp(), principal.signed_in_at):
        if not now - max_age_s <= moment <= now + CLOCK_SKEW_S:
            return None
    return principal


# ------------------------------------------------------------------ revocation

def revocation_time(now: float | None = None) -> datetime:
    """The ``not_before`` that refuses every token signed in until now: the next whole second, because sign-in
    times are whole seconds and one signed in earlier in this same second must be refused too."""
    now = time.time() if now is None else now
    return datetime.fromtimestamp(int(now) + 1, timezone.utc)


def signed_in_before(signed_in_at: int, not_before: datetime | None) -> bool:
    """Whether a token signed in at ``signed_in_at`` was revoked by the account's ``not_before``."""
    return not_before is not None and signed_in_at < as_utc(not_before).timestamp()


def sign_in_time(not_before: datetime | None, now: float | None = None) -> int:
    """The sign-in time for a token issued now: never before ``not_before`` (which may be up to a second
    ahead), so that signing in again right after signing out gives a token that counts."""
    now = int(time.time() if now is None else now)
    return max(now, int(as_utc(not_before).timestamp())) if not_before is not None else now


# ------------------------------------------------------------------ the app side

@dataclass(frozen=True)
class _AuthConfig:
    secret: str
    sign_in_url: str | Callable[[], str]
    cookie_secure: bool
    max_age_s: int
    refresh: Callable[[Principal], Principal | None] | None
    reissue_cookie: bool


@dataclass(frozen=True)
class RequestAuth:
    """How this request identified itself. ``source``: "bearer" when an Authorization header was sent
    (the cookie is then ignored, valid or not), "cookie" for a validly signed cookie (``principal`` may
    still be None when ``refresh`` found the account gone), None for anonymous."""

    principal: Principal | None
    source: str | None
    token_principal: Principal | None = None  # what the token said, before ``refresh``


def _config() -> _AuthConfig:
    return current_app.extensions[_EXTENSION]


def install_auth(app: Flask, secret: str, *, sign_in_url: str | Callable[[], str], cookie_secure: bool,
                 max_age_s: int = DEFAULT_MAX_AGE_S,
                 refresh: Callable[[Principal], Principal | None] | None = None,
                 reissue_cookie: bool = True) -> None:
    """Set ``g.principal`` (a :class:`Principal` or None) from the bearer token or the cookie on every request.

    ``sign_in_url``: where anonymous browsers are sent (a URL, or a function returning one).
    ``refresh``: the look-up of the account's current access (see the module's "Revocation"); it may return
    None (account gone, deactivated, or the token revoked), and the cookie is then cleared on the response.
    ``reissue_cookie`` (the agenda, which owns the accounts): when the account differs from the cookie, the
    cookie is re-issued, and a state-changing request is looked up again afterwards (it may have changed the
    rights, a new meeting). The other services only clear a refused cookie: a copy of the account that may
    lag behind the agenda's has no business rewriting the sign-in.
    """
    if len(secret or "") < MIN_SECRET_LENGTH:
        raise ValueError(f"SESSION_SECRET must be at least {MIN_SECRET_LENGTH} characters long")
    config = _AuthConfig(secret=secret, sign_in_url=sign_in_url, cookie_secure=cookie_secure,
                         max_age_s=max_age_s, refresh=refresh, reissue_cookie=reissue_cookie)
    app.extensions[_EXTENSION] = config

    @app.before_request
    def _identify():
        g.request_auth = _identify_request(config)
        g.principal = g.request_auth.principal

    @app.after_request
    def _keep_cookie_current(response: Response):
        auth: RequestAuth | None = g.get("request_auth")
        if auth is None or auth.source != "cookie" or config.refresh is None or g.get("session_cookie_written"):
            return response
        current = g.principal
        if current is not None and config.reissue_cookie and request.method not in SAFE_METHODS:
            current = config.refresh(current)  # this request may have changed the rights (a new meeting)
        if current is None:
            cookies.clear_cookie(response, SESSION_COOKIE, secure=config.cookie_secure)
        elif config.reissue_cookie and current != auth.token_principal:
            _write_cookie(response, config, current)
        return response


def _identify_request(config: _AuthConfig) -> RequestAuth:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        principal = verify_token(token.strip(), config.secret, max_age_s=config.max_age_s) \
            if scheme.lower() == "bearer" else None
        source = "bearer"
    else:
        principal = verify_token(request.cookies.get(SESSION_COOKIE), config.secret, max_age_s=config.max_age_s)
        source = "cookie" if principal is not None else None
    token_principal = principal
    if principal is not None and config.refresh is not None:
        principal = config.refresh(principal)
    return RequestAuth(principal=principal, source=source, token_principal=token_principal)


def request_auth() -> RequestAuth:
    return g.get("request_auth") or RequestAuth(None, None)


def current_principal() -> Principal | None:
    return g.get("principal")


# ------------------------------------------------------------------ guards

def sign_in_location() -> str:
    target = _config().sign_in_url
    url = target() if callable(target) else target
    if request.method == "GET":  # coming back to a POST-only address after signing in would only give 405
        url += ("&" if "?" in url else "?") + urlencode({"next": request.url})
    return url


def _refuse_anonymous():
    if wants_json():
        raise Unauthorized(SIGN_IN_REQUIRED, www_authenticate=WWWAuthenticate("bearer", {"realm": "treffpunkt"}))
    abort(redirect(sign_in_location(), 303))


def require_organiser() -> Principal:
    """The signed-in principal; 401 (JSON) or a redirect to the sign-in page for anonymous requests."""
    principal = current_principal()
    if principal is None:
        _refuse_anonymous()
    return principal


def require_admin() -> Principal:
    principal = require_organiser()
    if not principal.is_admin():
        raise Forbidden(ADMIN_ONLY)
    return principal


def require_meeting(meeting_id) -> Principal:
    """The principal if they may manage ``meeting_id``; 401 when anonymous, 403 when not assigned.

    Checked before the meeting is looked up, so an unassigned organiser learns nothing about whether it exists.
    """
    principal = require_organiser()
    if not principal.can_manage(meeting_id):
        raise Forbidden(NOT_YOUR_MEETING)
    return principal


def _guard(check: Callable[[], Principal]):
    def decorator_or_hook(view=None):
        if view is None:  # called by Flask as a before_request hook: None lets the request go on
            check()
            return None

        @functools.wraps(view)
        def guarded(*args, **kwargs):
            check()
            return view(*args, **kwargs)
        return guarded
    return decorator_or_hook


organiser_required = _guard(require_organiser)
organiser_required.__doc__ = """``@organiser_required`` on a view, or ``bp.before_request(organiser_required)``."""
admin_required = _guard(require_admin)
admin_required.__doc__ = """``@admin_required`` on a view, or ``bp.before_request(admin_required)``."""


# ------------------------------------------------------------------ issuing (the agenda's sign-in)

def issue_token(principal: Principal) -> str:
    return sign_token(principal, _config().secret)


def _write_cookie(response: Response, config: _AuthConfig, principal: Principal) -> str:
    token = sign_token(principal, config.secret)
    remaining = int(principal.signed_in_at + config.max_age_s - time.time())
    cookies.set_cookie(response, SESSION_COOKIE, token, secure=config.cookie_secure, max_age=max(remaining, 0))
    g.session_cookie_written = True
    return token


def start_session(response: Response, principal: Principal) -> str:
    """Put a freshly signed-in ``principal`` into the session cookie; returns the token."""
    return _write_cookie(response, _config(), principal)


def end_session(response: Response) -> None:
    cookies.clear_cookie(response, SESSION_COOKIE, secure=_config().cookie_secure)
    g.session_cookie_written = True
