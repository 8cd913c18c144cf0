"""Who may use the organisers' pages and API: a signed-in organiser (the agenda's sign-in, honoured here), and
for anything under a meeting only one assigned to that meeting (or an administrator).

Installed as a ``before_request`` hook of each organiser blueprint, so it runs before a view reads any input
and no route can forget it: a path that names ``meeting_id`` answers 403 to an unassigned organiser before the
meeting is even looked up; anonymous callers get 401 (JSON) or are sent to the sign-in page (HTML).
"""
from __future__ import annotations

from flask import Blueprint, request

from treffpunkt_shared.auth import require_meeting, require_organiser


def check_access() -> None:
    meeting_id = (request.view_args or {}).get("meeting_id")
    if meeting_id is not None:
        require_meeting(meeting_id)
    else:
        require_organiser()


def organiser_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    bp = Blueprint(name, import_name, **kwargs)
    bp.before_request(check_access)

    @bp.after_request
    def _private(response):
        # Lists of people: never cached by a shared cache, never indexed.
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex"
        return response

    return bp
