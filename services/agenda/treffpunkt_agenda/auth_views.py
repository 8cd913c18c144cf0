"""Signing in and out: the sign-in page, the sign-out page, and ``/api/session`` for API clients."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, jsonify, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import TooManyRequests, Unauthorized

from treffpunkt_shared import auth
from treffpunkt_shared.http import NUL_MESSAGE, InvalidInput, json_body

from . import accounts
from .account_schemas import SessionInput
from .account_texts import api_language, translate, translate_errors
from .sign_in import SignInRefused, TooManyAttempts

bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = "E-Mail-Adresse oder Passwort ist falsch."
TOO_MANY = "Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in {minutes} Minuten noch einmal."


def _deps():
    return current_app.extensions["treffpunkt"]


def _too_many(wait_s: int, lang: str) -> str:
    return translate(TOO_MANY, lang).format(minutes=max(1, -(-wait_s // 60)))


def safe_next(target: str | None) -> str | None:
    """Where to go after signing in, if it is a page of ours: a path on this site, or any port of the host
    the agenda is served from (the other services, whose cookies are shared with it). Else None."""
    if not target or any(ord(c) < 0x20 for c in target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if not parts.scheme and not parts.netloc:
        return target if target.startswith("/") and not target.startswith("//") else None
    own_host = urlsplit(_deps()["settings"].public_base_url).hostname
    return target if parts.scheme in ("http", "https") and parts.hostname == own_host else None


# ------------------------------------------------------------------ pages

@bp.get("/anmelden")
def sign_in():
    return render_template("sign_in.html", values={}, errors={}, problem=None,
                           next=safe_next(request.args.get("next")),
                           signed_out=request.args.get("abgemeldet") == "1")


@bp.post("/anmelden")
def sign_in_submit():
    email, password = request.form.get("email", "").strip(), request.form.get("password", "")
    target = safe_next(request.form.get("next"))
    errors = {}
    if not email:
        errors["email"] = [translate("Bitte geben Sie Ihre E-Mail-Adresse an.", g.lang)]
    if not password:
        errors["password"] = [translate("Bitte geben Sie Ihr Passwort an.", g.lang)]
    for field, value in (("email", email), ("password", password)):
        if "\x00" in value:  # PostgreSQL cannot compare it with stored text: a DataError, a 500
            errors[field] = [NUL_MESSAGE]
    if errors:
        return render_template("sign_in.html", values={"email": email}, errors=errors, problem=None,
                               next=target), 422
    try:
        principal = _deps()["sign_in"](email, password, request.remote_addr or "")
    except TooManyAttempts as exc:
        page = render_template("sign_in.html", values={"email": email}, errors={},
                               problem=_too_many(exc.wait_s, g.lang), next=target)
        return page, 429, {"Retry-After": str(exc.wait_s)}
    except SignInRefused:
        return render_template("sign_in.html", values={"email": email}, errors={},
                               problem=translate(WRONG_CREDENTIALS, g.lang), next=target), 401
    response = redirect(target or url_for("accounts.account"), 303)
    auth.start_session(response, principal)
    return response


@bp.get("/abmelden")
@auth.organiser_required
def sign_out():
    return render_template("sign_out.html")


def _sign_out_everywhere(principal: auth.Principal) -> None:
    # Clearing the cookie alone would leave every copy of the token working until it expires.
    with _deps()["engine"].begin() as tx:
        accounts.sign_out_everywhere(tx, principal.id, correlation_id=g.correlation_id)


@bp.post("/abmelden")
@auth.organiser_required
def sign_out_submit():
    _sign_out_everywhere(auth.current_principal())
    response = redirect(url_for(".sign_in", abgemeldet=1), 303)
    auth.end_session(response)
    return response


# ------------------------------------------------------------------ API

def _principal_json(principal: auth.Principal) -> dict:
    return {"id": principal.id, "name": principal.name, "email": principal.email, "role": principal.role,
            "meeting_ids": sorted(principal.meeting_ids)}


@bp.post("/api/session")
def create_session():
    """Email and password in, the token out (for ``Authorization: Bearer``); no cookie is set."""
    lang = api_language()
    try:
        data = SessionInput().load(json_body())
    except ValidationError as exc:
        raise InvalidInput(translate_errors(exc.messages, lang)) from None
    try:
        principal = _deps()["sign_in"](data["email"], data["password"], request.remote_addr or "")
    except TooManyAttempts as exc:
        raise TooManyRequests(_too_many(exc.wait_s, lang), retry_after=exc.wait_s) from None
    except SignInRefused:
        raise Unauthorized(translate(WRONG_CREDENTIALS, lang),
                           www_authenticate=WWWAuthenticate("bearer", {"realm": "treffpunkt"})) from None
    settings = _deps()["settings"]
    return jsonify(token=auth.issue_token(principal), token_type="Bearer",
                   expires_in=settings.session_max_age_s, organiser=_principal_json(principal))


@bp.get("/api/session")
@auth.organiser_required
def show_session():
    return jsonify(organiser=_principal_json(auth.current_principal()))


@bp.delete("/api/session")
def delete_session():
    """Signs the caller (bearer token or cookie) out everywhere, as the sign-out page does, and clears the
    cookie. Anonymous callers only get the cookie cleared."""
    principal = auth.current_principal()
    if principal is not None:
        _sign_out_everywhere(principal)
    response = Response(status=204)
    auth.end_session(response)
    return response
