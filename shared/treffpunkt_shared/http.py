"""HTTP pieces every service's Flask app uses: errors, JSON input, health, correlation ids, headers."""
from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Callable

import sqlalchemy as sa
from flask import Blueprint, Flask, g, jsonify, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException, UnsupportedMediaType, BadRequest

from .contracts import MAX_CORRELATION_ID_LENGTH
from .logs import log_event

log = logging.getLogger("treffpunkt.http")
MAX_BODY_BYTES = 64 * 1024
_CORRELATION_ID = re.compile(rf"^[A-Za-z0-9._-]{{1,{MAX_CORRELATION_ID_LENGTH}}}$")


class InvalidInput(Exception):
    """Input that failed validation: answered 422 with the per-field messages."""

    def __init__(self, errors: dict):
        super().__init__("invalid input")
        self.errors = errors


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def json_body() -> dict:
    """The request's JSON object, or a 4xx that says what is wrong with it."""
    if not request.is_json:
        raise UnsupportedMediaType("Bitte als application/json senden. / Please send application/json.")
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("Der Inhalt ist kein gültiges JSON. / The body is not valid JSON.")
    if not isinstance(data, dict):
        raise BadRequest("Erwartet wird ein JSON-Objekt. / A JSON object is expected.")
    return data


def load(schema: Schema, data: dict) -> dict:
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise InvalidInput(exc.messages) from None


def loggable_path() -> str:
    """The request's route for a log line (``/anmeldung/<token>``): a path can hold a personal link's token,
    and nothing secret goes into logs. Paths no route matches are logged as they are."""
    rule = request.url_rule
    return rule.rule if rule is not None else request.path


DATABASE_UNAVAILABLE = ("Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal. / "
                        "The service is briefly unavailable. Please try again in a moment.")
RETRY_AFTER_S = 5


def database_unavailable(exc: Exception) -> bool:
    """Whether ``exc`` says the database cannot be reached or cannot serve now (down, restarting, refusing
    connections, the pool exhausted, a deadlock or serialisation victim): worth a retry, not a bug."""
    if isinstance(exc, sa.exc.TimeoutError):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and (exc.connection_invalidated
                                                    or isinstance(exc, sa.exc.OperationalError))


NUL_MESSAGE = "Das Zeichen NUL ist nicht erlaubt. / The NUL character is not allowed."


def _refuse_nul_in_address() -> None:
    """PostgreSQL can neither store nor compare text holding NUL (a DataError, a 500): refused in the path and
    the query string for every route at once. Bodies are checked by each form's and API's schema, which can
    say so at the field."""
    if "\x00" in request.path:
        raise BadRequest(NUL_MESSAGE)
    fields = sorted({key for key, value in request.args.items(multi=True) if "\x00" in key or "\x00" in value})
    if fields:
        if wants_json():
            raise InvalidInput({field.replace("\x00", "") or "query": [NUL_MESSAGE] for field in fields})
        raise BadRequest(NUL_MESSAGE)


def install(app: Flask, *, service: str, html_error: Callable[[int, str], str] | None = None) -> None:
    """Error handlers, body limit, correlation ids, request logs and security headers."""
    # Flask ships MAX_CONTENT_LENGTH=None, so setdefault would leave bodies unlimited.
    app.config["MAX_CONTENT_LENGTH"] = app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY_BYTES

    @app.before_request
    def _start():
        g.started = time.perf_counter()
        given = request.headers.get("X-Correlation-ID", "")
        g.correlation_id = given if _CORRELATION_ID.match(given) else uuid.uuid4().hex
        _refuse_nul_in_address()

    @app.after_request
    def _finish(response):
        response.headers["X-Correlation-ID"] = g.get("correlation_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
        if request.path not in ("/healthz", "/readyz"):
            log_event(log, "http_request", service=service, method=request.method, path=loggable_path(),
                      status=response.status_code, correlation_id=g.get("correlation_id"),
                      ms=round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2))
        return response

    @app.errorhandler(InvalidInput)
    def _invalid(exc: InvalidInput):
        return jsonify(error="invalid_input",
                       message="Bitte prüfen Sie die markierten Felder. / Please check the fields marked.",
                       errors=exc.errors), 422

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # Keep what the exception says beyond its text: WWW-Authenticate on a 401, Retry-After on a 429.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        messages = (getattr(exc, "data", None) or {}).get("messages")
        if exc.code == 422 and isinstance(messages, dict):
            # webargs (flask-smorest) nests field errors under their location ("json", "form", "query").
            errors = {}
            for located in messages.values():
                errors.update(located if isinstance(located, dict) else {"_schema": located})
            return _invalid(InvalidInput(errors))
        if wants_json() or html_error is None:
            return jsonify(error=exc.name.lower().replace(" ", "_"), message=exc.description), exc.code, headers
        return html_error(exc.code, exc.description), exc.code, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if database_unavailable(exc):
            # A restart or an outage of PostgreSQL is the operators' business, not a bug: the client is told
            # to come back (503 + Retry-After) and nothing was written (the transaction did not commit).
            log_event(log, "database_unavailable", logging.WARNING, correlation_id=g.get("correlation_id"),
                      error=repr(exc)[:300])
            headers = {"Retry-After": str(RETRY_AFTER_S)}
            if wants_json() or html_error is None:
                return jsonify(error="service_unavailable", message=DATABASE_UNAVAILABLE), 503, headers
            return html_error(503, DATABASE_UNAVAILABLE), 503, headers
        log.exception("unhandled_error", extra={"correlation_id": g.get("correlation_id")})
        message = "Ein interner Fehler ist aufgetreten. / An internal error occurred."
        if wants_json() or html_error is None:
            return jsonify(error="internal_error", message=message), 500
        return html_error(500, message), 500


def health_blueprint(checks: dict[str, Callable[[], bool]],
                     details: dict[str, Callable[[], dict]] | None = None) -> Blueprint:
    """``/healthz``: the process answers. ``/readyz``: every dependency in ``checks`` answers too, plus what
    ``details`` report for monitoring (the outbox's backlog: rows the relay has not published yet and the age of
    the oldest, which grows when publishing is stuck); a detail that cannot be read is null, never an error."""
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @bp.get("/readyz")
    def readyz():
        results = {name: bool(check()) for name, check in checks.items()}
        ok = all(results.values())
        body = {"status": "ok" if ok else "unavailable", "checks": results}
        for name, detail in (details or {}).items():
            try:
                body[name] = detail() if results.get("database", True) else None
            except Exception:  # the database went away between the check and the detail
                body[name] = None
        return jsonify(body), 200 if ok else 503

    return bp
