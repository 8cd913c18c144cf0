"""The organiser JSON API for meetings."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify
from werkzeug.exceptions import Conflict, NotFound

from treffpunkt_shared.auth import current_principal, organiser_required, require_meeting
from treffpunkt_shared.http import json_body, load

from .meetings import (MeetingNotFound, MeetingNotPublishable, create_meeting, get_meeting, list_meetings,
                       publish_meeting)
from .schemas import MeetingInput, MeetingOutput

bp = Blueprint("meetings_api", __name__, url_prefix="/api/meetings")


bp.before_request(organiser_required)


def _engine():
    return current_app.extensions["treffpunkt"]["engine"]


@bp.get("")
def index():
    principal = current_principal()
    visible = [m for m in list_meetings(_engine()) if principal.can_manage(m["id"])]
    return jsonify(meetings=MeetingOutput(many=True).dump(visible))


@bp.post("")
def create():
    data = load(MeetingInput(), json_body())
    meeting = create_meeting(_engine(), data, organiser_id=current_principal().id)
    return jsonify(MeetingOutput().dump(meeting)), 201


@bp.get("/<uuid:meeting_id>")
def show(meeting_id):
    require_meeting(meeting_id)
    try:
        return jsonify(MeetingOutput().dump(get_meeting(_engine(), str(meeting_id))))
    except MeetingNotFound:
        raise NotFound("Dieses Treffen gibt es nicht. / No such meeting.") from None


@bp.post("/<uuid:meeting_id>/publish")
def publish(meeting_id):
    require_meeting(meeting_id)
    try:
        meeting = publish_meeting(_engine(), str(meeting_id), correlation_id=g.correlation_id)
    except MeetingNotFound:
        raise NotFound("Dieses Treffen gibt es nicht. / No such meeting.") from None
    except MeetingNotPublishable as exc:
        raise Conflict(f"Ein Treffen im Status {exc} kann nicht veröffentlicht werden. / "
                       f"A meeting in status {exc} cannot be published.") from None
    return jsonify(MeetingOutput().dump(meeting))
