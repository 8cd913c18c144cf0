"""The one way treffpunkt sets its cookies (sign-in and CSRF), and when they carry the Secure flag.

Every treffpunkt cookie is HttpOnly (no script needs to read it), SameSite=Lax (a link from an email or
another site still opens a signed-in page, a cross-site POST goes out without the cookie) and Path=/ with
no Domain: cookies are shared across the ports of one host, so the agenda's cookie on 127.0.0.1:8001 also
reaches registration (:8002) and notify (:8003), and in embedded mode the apps under /agenda, / and
/notify. That sharing is what makes one sign-in count in all three services.

Secure: over https always. Over plain http it depends on the host, measured with Chromium 156 (the
Debian chromium the browser tests use; tests/test_browser_auth.py keeps checking it):

* http://127.0.0.1 and http://localhost are "potentially trustworthy" origins: Chromium stores a Secure
  cookie set there and sends it back, on every port of that host. So local development keeps Secure.
  (Firefox does the same since version 75; Safari may not - set COOKIE_SECURE=false there.)
* any other plain-http host (http://192.0.2.2:8001, an intranet name): Chromium silently drops a
  Secure cookie, and sign-in would loop back to the sign-in page. So the default there is no Secure flag,
  and COOKIE_SECURE=true/false decides explicitly.

Non-browser clients (python-requests, curl) never send a Secure cookie over http: they use the bearer
token instead.
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import Response

LOOPBACK_NAMES = ("localhost",)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_cookies(public_base_url: str, override: bool | None = None) -> bool:
    """Whether cookies of a service reached at ``public_base_url`` carry the Secure flag.

    https: always (an override cannot switch it off). Plain http: ``override`` (COOKIE_SECURE) if given,
    else Secure only on loopback hosts, where browsers accept it (see the module docstring).
    """
    parts = urlsplit(public_base_url)
    if parts.scheme == "https":
        return True
    if override is not None:
        return override
    return _is_loopback((parts.hostname or "").lower())


def set_cookie(response: Response, name: str, value: str, *, secure: bool, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="Lax")


def clear_cookie(response: Response, name: str, *, secure: bool) -> None:
    response.set_cookie(name, "", max_age=0, expires=0, path="/", secure=secure, httponly=True, samesite="Lax")
