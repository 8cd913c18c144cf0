"""Protection against cross-site request forgery for every state-changing request a browser can forge.

Signed double submit: the browser gets a random secret in an HttpOnly cookie (``treffpunkt_csrf``, one
per browser session, shared by the three services like the sign-in cookie); each form carries
``HMAC(key, cookie secret | signed-in organiser)`` in a hidden field. A page on another site can make
the browser send the cookie but can neither read it nor compute the field, and a cookie planted from a
sibling host does not help either, because the field also needs the key (from SESSION_SECRET) and is tied
to whoever is signed in.

Which requests are checked (every method but GET/HEAD/OPTIONS/TRACE):

* signed in by cookie: always, form or JSON (JSON clients send the token in ``X-CSRF-Token``);
* anonymous HTML forms (sign-in, a participant's registration): always; forging a sign-in is an attack too;
* exempt: requests with an ``Authorization`` header (a browser never adds one on its own), and anonymous
  requests that are not form posts or go to ``/api/``: they use no ambient authority, and the JSON APIs
  accept only application/json, which another site cannot send without a CORS preflight (no treffpunkt
  service answers one).

In a template: ``<form method="post">{{ csrf_field() }} ...``. In code: :func:`csrf_token`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request
from markupsafe import Markup
from werkzeug.exceptions import BadRequest

from . import cookies
from .auth import SAFE_METHODS, request_auth
from .http import loggable_path
from .logs import log_event

CSRF_COOKIE = "treffpunkt_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# What an HTML form (or a no-CORS fetch) on another site can send without a preflight.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
REFUSED = ("Das Formular ist abgelaufen oder ungültig. Bitte laden Sie die Seite neu und senden Sie es noch "
           "einmal. / The form has expired or is not valid. Please reload the page and send it again.")

_EXTENSION = "treffpunkt_csrf"
_BROWSER_SECRET = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
log = logging.getLogger("treffpunkt.csrf")


@dataclass(frozen=True)
class _CsrfConfig:
    key: bytes
    cookie_secure: bool


def install_csrf(app: Flask, secret: str, *, cookie_secure: bool) -> None:
    """Check every unsafe request (after :func:`.auth.install_auth`, whose result it needs) and offer
    ``csrf_field()`` and ``csrf_token()`` to templates."""
    key = hmac.new(secret.encode(), b"treffpunkt.csrf.v1", hashlib.sha256).digest()
    app.extensions[_EXTENSION] = _CsrfConfig(key=key, cookie_secure=cookie_secure)
    app.jinja_env.globals.update(csrf_field=csrf_field, csrf_token=csrf_token)
    app.before_request(_check)
    app.after_request(_hand_out_cookie)


def _binding() -> str:
    """Whose session the token belongs to: the organiser signed in by cookie, or nobody."""
    auth = request_auth()
    return auth.principal.id if auth.source == "cookie" and auth.principal is not None else "-"


def _token_for(browser_secret: str) -> str:
    key = current_app.extensions[_EXTENSION].key
    mac = hmac.new(key, f"{browser_secret}|{_binding()}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _browser_secret_sent() -> str | None:
    value = request.cookies.get(CSRF_COOKIE, "")
    return value if _BROWSER_SECRET.match(value) else None


def csrf_token() -> str:
    """The token for this browser's session; starts one (a new cookie on the response) if there is none."""
    browser_secret = g.get("csrf_browser_secret") or _browser_secret_sent()
    if browser_secret is None:
        browser_secret = secrets.token_urlsafe(32)
        g.csrf_new_cookie = browser_secret
    g.csrf_browser_secret = browser_secret
    g.csrf_rendered = True
    return _token_for(browser_secret)


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, csrf_token())


def _needs_check() -> bool:
    if request.method in SAFE_METHODS:
        return False
    auth = request_auth()
    if auth.source == "bearer":
        return False
    if auth.source == "cookie":
        return True
    # Anonymous: HTML forms are checked. The JSON APIs take application/json only (415 otherwise), which
    # another site cannot send without a CORS preflight, so an anonymous API call needs no token.
    return request.mimetype in FORM_TYPES and not request.path.startswith("/api/")


def _check():
    if not _needs_check():
        return None
    browser_secret = _browser_secret_sent()
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    if browser_secret is None or not hmac.compare_digest(given.encode(), _token_for(browser_secret).encode()):
        log_event(log, "csrf_refused", method=request.method, path=loggable_path(),
                  correlation_id=g.get("correlation_id"), had_cookie=browser_secret is not None,
                  had_token=bool(given))
        raise BadRequest(REFUSED)
    return None


def _hand_out_cookie(response: Response) -> Response:
    new = g.get("csrf_new_cookie")
    if new:
        cookies.set_cookie(response, CSRF_COOKIE, new, secure=current_app.extensions[_EXTENSION].cookie_secure,
                           max_age=None)
    if g.get("csrf_rendered"):
        # The page holds a token tied to this browser: no shared cache may keep it for someone else.
        response.headers["Cache-Control"] = "no-store"
    return response
