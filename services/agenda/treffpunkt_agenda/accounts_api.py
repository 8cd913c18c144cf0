"""The JSON API for organiser accounts (administrators only)."""
from __future__ import annotations

from flask import Response, current_app, g, jsonify
from flask_smorest import Blueprint
from marshmallow import ValidationError
from werkzeug.exceptions import Conflict, NotFound

from treffpunkt_shared import auth
from treffpunkt_shared.http import InvalidInput, json_body

from . import accounts
from .account_schemas import OrganiserChange, OrganiserInput, OrganiserOutput
from .account_texts import api_language, translate, translate_errors

bp = Blueprint("accounts_api", __name__, url_prefix="/api/organisers",
               description="Organisationskonten (nur Administration) / organiser accounts (administrators only)")
bp.before_request(auth.admin_required)

NO_SUCH_ACCOUNT = "Dieses Konto gibt es nicht."
NO_SUCH_MEETING = "Dieses Treffen gibt es nicht."
ACCOUNT_EXISTS = "Mit dieser E-Mail-Adresse gibt es bereits ein Konto."
NOT_YOURSELF = "Sie können Ihr eigenes Konto nicht deaktivieren oder herabstufen."


def _engine():
    return current_app.extensions["treffpunkt"]["engine"]


def _load(schema, lang: str) -> dict:
    try:
        return schema.load(json_body())
    except ValidationError as exc:
        raise InvalidInput(translate_errors(exc.messages, lang)) from None


def _not_found(message: str, lang: str) -> NotFound:
    return NotFound(translate(message, lang))


@bp.get("")
def index():
    with _engine().connect() as conn:
        return jsonify(organisers=OrganiserOutput(many=True).dump(accounts.list_accounts(conn)))


@bp.post("")
@bp.doc(requestBody={"content": {"application/json": {"schema": OrganiserInput}}})
def create():
    lang = api_language()
    data = _load(OrganiserInput(), lang)
    try:
        with _engine().begin() as tx:
            created = accounts.create_account(tx, **data)
    except accounts.AccountExists:
        message = translate(ACCOUNT_EXISTS, lang)
        return jsonify(error="account_exists", message=message, errors={"email": [message]}), 409
    return jsonify(OrganiserOutput().dump(created)), 201


@bp.get("/<uuid:organiser_id>")
def show(organiser_id):
    try:
        with _engine().connect() as conn:
            return jsonify(OrganiserOutput().dump(accounts.get_account(conn, str(organiser_id))))
    except accounts.AccountNotFound:
        raise _not_found(NO_SUCH_ACCOUNT, api_language()) from None


@bp.patch("/<uuid:organiser_id>")
@bp.doc(requestBody={"content": {"application/json": {"schema": OrganiserChange}}})
def change(organiser_id):
    lang = api_language()
    data = _load(OrganiserChange(), lang)
    if str(organiser_id) == auth.current_principal().id and (
            data.get("active") is False or data.get("role", auth.ADMINISTRATOR) != auth.ADMINISTRATOR):
        raise Conflict(translate(NOT_YOURSELF, lang))
    try:
        with _engine().begin() as tx:
            changed = accounts.update_account(tx, str(organiser_id), data, correlation_id=g.correlation_id)
            return jsonify(OrganiserOutput().dump(changed))
    except accounts.AccountNotFound:
        raise _not_found(NO_SUCH_ACCOUNT, lang) from None


@bp.put("/<uuid:organiser_id>/meetings/<uuid:meeting_id>")
def assign(organiser_id, meeting_id):
    lang = api_language()
    try:
        with _engine().begin() as tx:
            accounts.assign_organiser(tx, str(meeting_id), str(organiser_id), correlation_id=g.correlation_id)
    except accounts.AccountNotFound:
        raise _not_found(NO_SUCH_ACCOUNT, lang) from None
    except accounts.MeetingNotFound:
        raise _not_found(NO_SUCH_MEETING, lang) from None
    return Response(status=204)


@bp.delete("/<uuid:organiser_id>/meetings/<uuid:meeting_id>")
def unassign(organiser_id, meeting_id):
    try:
        with _engine().begin() as tx:
            accounts.get_account(tx, str(organiser_id))
            accounts.unassign_organiser(tx, str(meeting_id), str(organiser_id), correlation_id=g.correlation_id)
    except accounts.AccountNotFound:
        raise _not_found(NO_SUCH_ACCOUNT, api_language()) from None
    return Response(status=204)
