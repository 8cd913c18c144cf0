"""The organiser JSON API: meetings, their agenda, discussion rounds and documents.

Built with flask-smorest, so the marshmallow schemas are the single source of both the validation and the
OpenAPI document served at ``/api/openapi.json``. Every error has the body shape of
:mod:`treffpunkt_shared.http` (``error``, ``message``, and ``errors`` per field for 422).
"""
from __future__ import annotations

from flask import current_app, g, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import Conflict, NotFound, UnsupportedMediaType

from treffpunkt_shared.auth import current_principal, organiser_required, require_meeting

from treffpunkt_shared.http import InvalidInput, json_body, load

from .meetings import (MeetingNotEditable, MeetingNotFound, StatusChangeRefused, change_status, create_meeting,
                       get_meeting, list_meetings, meeting_as_input, update_meeting)
from .programme import AgendaHasProblems, ItemNotFound, NotPossible, Programme, announce_agenda_change
from .schemas import (AgendaItemInput, AgendaOutput, DocumentOutput, DocumentUploadInput,
                      ItemWithProblemsOutput, MeetingInput, MeetingListOutput, MeetingOutput, ProblemOutput,
                      ResultInput, StatusInput)
from .uploads import MAX_DOCUMENT_BYTES, checked_document

bp = Blueprint("meetings_api", __name__, url_prefix="/api/meetings",
               description="Treffen, Programm und Diskussionsrunden / meetings, agenda and discussion rounds")

NO_MEETING = "Dieses Treffen gibt es nicht. / No such meeting."
NO_ITEM = "Diesen Programmpunkt gibt es nicht. / No such agenda item."


# Every endpoint needs a signed-in organiser; each one that names a meeting also checks the assignment.
bp.before_request(organiser_required)


@bp.before_request
def _assigned_to_the_meeting():
    # Before any body is read: an unassigned organiser learns nothing, not even which input would be valid.
    meeting_id = (request.view_args or {}).get("meeting_id")
    if meeting_id is not None:
        require_meeting(str(meeting_id))


@bp.before_request
def _json_bodies_only():
    # Without this, webargs would read a text/plain body as "no JSON" and answer 422 "field missing".
    if (request.method in ("POST", "PUT", "PATCH") and request.endpoint != "meetings_api.upload_document"
            and (request.content_length or request.headers.get("Transfer-Encoding")) and not request.is_json):
        raise UnsupportedMediaType("Bitte als application/json senden. / Please send application/json.")
    if request.is_json and request.content_length:
        json_body()  # a 400 that says what is wrong: not JSON, or not a JSON object


def _may_manage(meeting_id) -> None:
    """Refuses (403) a signed-in organiser who is not assigned to the meeting."""
    require_meeting(meeting_id)


def _engine():
    return current_app.extensions["treffpunkt"]["engine"]


def _programme() -> Programme:
    return current_app.extensions["treffpunkt"]["programme"]


def _meeting_or_404(meeting_id) -> dict:
    _may_manage(meeting_id)
    try:
        return get_meeting(_engine(), str(meeting_id))
    except MeetingNotFound:
        raise NotFound(NO_MEETING) from None


def _problems_response(exc: AgendaHasProblems):
    body = {"error": "agenda_has_problems",
            "message": "Das Programm hat Fehler, die erst behoben werden müssen. / "
                       "The agenda has problems that must be fixed first.",
            "problems": ProblemOutput(many=True).dump([p.as_dict() for p in exc.problems])}
    # A Response object: flask-smorest passes it through instead of dumping it with the success schema.
    response = jsonify(body)
    response.status_code = 409
    return response


def _translate(call):
    """Run an operation, turning domain refusals into clear 4xx answers."""
    try:
        return call()
    except MeetingNotFound:
        raise NotFound(NO_MEETING) from None
    except ItemNotFound:
        raise NotFound(NO_ITEM) from None
    except MeetingNotEditable as exc:
        raise Conflict(f"Ein Treffen im Status „{exc.status}“ kann nicht mehr geändert werden. / "
                       f"A meeting in status “{exc.status}” can no longer be changed.") from None
    except StatusChangeRefused as exc:
        raise Conflict(f"Vom Status „{exc.current}“ geht es nicht nach „{exc.wanted}“. / "
                       f"Status “{exc.current}” cannot become “{exc.wanted}”.") from None
    except NotPossible as exc:
        raise Conflict(exc.message) from None


@bp.route("")
class Meetings(MethodView):
    @bp.response(200, MeetingListOutput)
    def get(self):
        """Alle Treffen / all meetings"""
        principal = current_principal()
        return {"meetings": list_meetings(_engine(),
                                          meeting_ids=None if principal.is_admin() else principal.meeting_ids)}

    @bp.arguments(MeetingInput)
    @bp.response(201, MeetingOutput)
    def post(self, data):
        """Treffen anlegen (Entwurf) / create a meeting (draft)"""
        return create_meeting(_engine(), data, organiser_id=current_principal().id)


@bp.route("/<uuid:meeting_id>")
class Meeting(MethodView):
    @bp.response(200, MeetingOutput)
    def get(self, meeting_id):
        """Ein Treffen / one meeting"""
        return _meeting_or_404(meeting_id)

    @bp.doc(requestBody={"content": {"application/json": {"schema": MeetingInput}}},
            description="Teiländerung: nur die angegebenen Felder ändern sich. / Partial update.")
    @bp.response(200, MeetingOutput)
    def patch(self, meeting_id):
        """Treffen ändern / change a meeting"""
        current = _meeting_or_404(meeting_id)
        data = load(MeetingInput(), {**meeting_as_input(current), **json_body()})
        programme = _programme()

        def recheck(tx, mid):
            announce_agenda_change(tx, mid, programme.base_url, correlation_id=g.correlation_id)

        try:
            return _translate(lambda: update_meeting(_engine(), str(meeting_id), data,
                                                     correlation_id=g.correlation_id, after_change=recheck))
        except AgendaHasProblems as exc:
            return _problems_response(exc)


@bp.route("/<uuid:meeting_id>/publish", methods=["POST"])
@bp.response(200, MeetingOutput)
def publish(meeting_id):
    """Treffen veröffentlichen (Anmeldung öffnet) / publish a meeting (registration opens)"""
    _meeting_or_404(meeting_id)
    return _translate(lambda: change_status(_engine(), str(meeting_id), "published",
                                            correlation_id=g.correlation_id))


@bp.route("/<uuid:meeting_id>/status", methods=["POST"])
@bp.arguments(StatusInput)
@bp.response(200, MeetingOutput)
def set_status(data, meeting_id):
    """Status ändern: published, closed, archived, cancelled / change the status"""
    _meeting_or_404(meeting_id)
    return _translate(lambda: change_status(_engine(), str(meeting_id), data["status"],
                                            correlation_id=g.correlation_id))


@bp.route("/<uuid:meeting_id>/agenda", methods=["GET"])
@bp.response(200, AgendaOutput)
def agenda(meeting_id):
    """Programm mit Hinweisen / the agenda with its problems"""
    _meeting_or_404(meeting_id)
    return _programme().agenda(str(meeting_id))


@bp.route("/<uuid:meeting_id>/agenda/publish", methods=["POST"])
@bp.response(200, MeetingOutput)
def publish_agenda(meeting_id):
    """Programm veröffentlichen / publish the agenda"""
    _meeting_or_404(meeting_id)
    try:
        return _translate(lambda: _programme().publish_agenda(str(meeting_id), correlation_id=g.correlation_id))
    except AgendaHasProblems as exc:
        return _problems_response(exc)


def _item_response(meeting_id: str, item_id: str, status: int = 200):
    item = _programme().item(meeting_id, item_id)
    problems = [p.as_dict() for p in _programme().problems(meeting_id) if item_id in p.item_ids]
    return {**item, "problems": problems}, status


@bp.route("/<uuid:meeting_id>/items")
class Items(MethodView):
    @bp.arguments(AgendaItemInput)
    @bp.response(201, ItemWithProblemsOutput)
    def post(self, data, meeting_id):
        """Programmpunkt anlegen / add an agenda item"""
        _meeting_or_404(meeting_id)
        try:
            item_id = _translate(lambda: _programme().add_item(str(meeting_id), data,
                                                              correlation_id=g.correlation_id))
        except AgendaHasProblems as exc:
            return _problems_response(exc)
        return _item_response(str(meeting_id), item_id, 201)


@bp.route("/<uuid:meeting_id>/items/<uuid:item_id>")
class Item(MethodView):
    @bp.response(200, ItemWithProblemsOutput)
    def get(self, meeting_id, item_id):
        """Ein Programmpunkt / one agenda item"""
        _meeting_or_404(meeting_id)
        return _translate(lambda: _item_response(str(meeting_id), str(item_id)))

    @bp.doc(requestBody={"content": {"application/json": {"schema": AgendaItemInput}}},
            description="Teiländerung / partial update")
    @bp.response(200, ItemWithProblemsOutput)
    def patch(self, meeting_id, item_id):
        """Programmpunkt ändern / change an agenda item"""
        _meeting_or_404(meeting_id)
        programme = _programme()
        current = _translate(lambda: programme.item_as_input(str(meeting_id), str(item_id)))
        data = load(AgendaItemInput(), {**current, **json_body()})
        try:
            _translate(lambda: programme.update_item(str(meeting_id), str(item_id), data,
                                                     correlation_id=g.correlation_id))
        except AgendaHasProblems as exc:
            return _problems_response(exc)
        return _item_response(str(meeting_id), str(item_id))

    @bp.response(204)
    def delete(self, meeting_id, item_id):
        """Programmpunkt löschen (veröffentlicht: besser absagen) / delete an item (published: cancel instead)"""
        _meeting_or_404(meeting_id)
        try:
            _translate(lambda: _programme().delete_item(str(meeting_id), str(item_id),
                                                        correlation_id=g.correlation_id))
        except AgendaHasProblems as exc:
            return _problems_response(exc)
        return None


def _set_item_status(meeting_id, item_id, status):
    _meeting_or_404(meeting_id)
    try:
        _translate(lambda: _programme().set_item_status(str(meeting_id), str(item_id), status,
                                                        correlation_id=g.correlation_id))
    except AgendaHasProblems as exc:
        return _problems_response(exc)
    return _item_response(str(meeting_id), str(item_id))


@bp.route("/<uuid:meeting_id>/items/<uuid:item_id>/cancel", methods=["POST"])
@bp.response(200, ItemWithProblemsOutput)
def cancel_item(meeting_id, item_id):
    """Programmpunkt absagen / cancel an agenda item"""
    return _set_item_status(meeting_id, item_id, "cancelled")


@bp.route("/<uuid:meeting_id>/items/<uuid:item_id>/reinstate", methods=["POST"])
@bp.response(200, ItemWithProblemsOutput)
def reinstate_item(meeting_id, item_id):
    """Abgesagten Programmpunkt wieder aufnehmen / reinstate a cancelled item"""
    return _set_item_status(meeting_id, item_id, "scheduled")


@bp.route("/<uuid:meeting_id>/items/<uuid:item_id>/result", methods=["PUT"])
@bp.arguments(ResultInput)
@bp.response(200, ItemWithProblemsOutput)
def set_result(data, meeting_id, item_id):
    """Ergebnis einer Runde speichern / save a round's result"""
    _meeting_or_404(meeting_id)
    _translate(lambda: _programme().set_result(str(meeting_id), str(item_id), data["result"]))
    return _item_response(str(meeting_id), str(item_id))


@bp.route("/<uuid:meeting_id>/items/<uuid:item_id>/result/publish", methods=["POST"])
@bp.response(200, ItemWithProblemsOutput)
def publish_result(meeting_id, item_id):
    """Ergebnis einer Runde veröffentlichen / publish a round's result"""
    _meeting_or_404(meeting_id)
    _translate(lambda: _programme().publish_result(str(meeting_id), str(item_id), correlation_id=g.correlation_id))
    return _item_response(str(meeting_id), str(item_id))


@bp.route("/<uuid:meeting_id>/items/<uuid:item_id>/documents", methods=["POST"])
@bp.arguments(DocumentUploadInput, location="form")
@bp.response(201, DocumentOutput)
def upload_document(data, meeting_id, item_id):
    """Dokument hochladen (multipart/form-data, Feld „file“) / upload a document"""
    _meeting_or_404(meeting_id)
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput({"file": ["Bitte eine Datei auswählen. / Please choose a file."]})
    content = upload.read(MAX_DOCUMENT_BYTES + 1)
    filename, content_type = checked_document(upload.filename, content)
    programme = _programme()
    try:
        document_id = _translate(lambda: programme.add_document(
            str(meeting_id), str(item_id), kind=data["kind"], filename=filename, content_type=content_type,
            data=content, correlation_id=g.correlation_id))
    except AgendaHasProblems as exc:
        return _problems_response(exc)
    item = programme.item(str(meeting_id), str(item_id))
    return next(d for d in item["documents"] if d["document_id"] == document_id), 201


@bp.route("/<uuid:meeting_id>/documents/<uuid:document_id>", methods=["DELETE"])
@bp.response(204)
def delete_document(meeting_id, document_id):
    """Dokument löschen / delete a document"""
    _meeting_or_404(meeting_id)
    try:
        _translate(lambda: _programme().delete_document(str(meeting_id), str(document_id),
                                                        correlation_id=g.correlation_id))
    except AgendaHasProblems as exc:
        return _problems_response(exc)
    return None
