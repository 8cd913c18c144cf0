"""The account pages: one's own account and meetings, and for administrators the list of accounts,
creating one, and assigning organisers to meetings. Plain HTML forms, no JavaScript needed."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from treffpunkt_shared import auth
from treffpunkt_shared.timeutil import format_date

from . import accounts
from .account_schemas import OrganiserInput
from .account_texts import translate, translate_errors

bp = Blueprint("accounts", __name__)
FORM_FIELDS = ("name", "email", "role", "password")


def _engine():
    return current_app.extensions["treffpunkt"]["engine"]


@bp.app_template_filter("date_de")
def _date(value, zone="Europe/Berlin"):
    return format_date(value, g.get("lang", "de"), zone)


@bp.get("/")
@auth.organiser_required
def home():
    return redirect(url_for(".account"), 303)


@bp.get("/konto")
@auth.organiser_required
def account():
    principal = auth.current_principal()
    with _engine().connect() as conn:
        meetings = [m for m in accounts.meeting_choices(conn) if principal.can_manage(m["id"])]
    return render_template("account.html", principal=principal, meetings=meetings)


@bp.get("/konten")
@auth.admin_required
def account_list():
    with _engine().connect() as conn:
        return render_template("accounts.html", accounts=accounts.list_accounts(conn))


def _new_form(values: dict, errors: dict, status: int = 200):
    return render_template("account_new.html", values=values, errors=errors, roles=accounts.ROLES), status


@bp.get("/konten/neu")
@auth.admin_required
def account_new():
    return _new_form({"role": accounts.ORGANISER}, {})


@bp.post("/konten/neu")
@auth.admin_required
def account_create():
    values = {key: request.form.get(key, "") for key in FORM_FIELDS}
    try:
        data = OrganiserInput().load(values)
    except ValidationError as exc:
        values.pop("password")
        return _new_form(values, translate_errors(exc.messages, g.lang), 422)
    try:
        with _engine().begin() as tx:
            created = accounts.create_account(tx, **data)
    except accounts.AccountExists:
        values.pop("password")
        message = translate("Mit dieser E-Mail-Adresse gibt es bereits ein Konto.", g.lang)
        return _new_form(values, {"email": [message]}, 409)
    return redirect(url_for(".account_detail", organiser_id=created["id"], angelegt=1), 303)


def _load(conn, organiser_id) -> dict:
    try:
        return accounts.get_account(conn, str(organiser_id))
    except accounts.AccountNotFound:
        abort(404)


def _detail(organiser_id, *, error: str | None = None, status: int = 200):
    with _engine().connect() as conn:
        account = _load(conn, organiser_id)
        meetings = accounts.meeting_choices(conn)
    assigned = [m for m in meetings if m["id"] in account["meeting_ids"]]
    assignable = [m for m in meetings if m["id"] not in account["meeting_ids"]]
    return render_template("account_detail.html", account=account, assigned=assigned, assignable=assignable,
                           error=error, created=request.args.get("angelegt") == "1"), status


@bp.get("/konten/<uuid:organiser_id>")
@auth.admin_required
def account_detail(organiser_id):
    return _detail(organiser_id)


@bp.post("/konten/<uuid:organiser_id>/treffen")
@auth.admin_required
def assign(organiser_id):
    meeting_id = request.form.get("meeting_id", "")
    try:
        with _engine().begin() as tx:
            accounts.assign_organiser(tx, meeting_id, str(organiser_id), correlation_id=g.correlation_id)
    except accounts.AccountNotFound:
        abort(404)
    except accounts.MeetingNotFound:
        return _detail(organiser_id, error="Bitte wählen Sie ein Treffen aus.", status=422)
    return redirect(url_for(".account_detail", organiser_id=organiser_id), 303)


@bp.post("/konten/<uuid:organiser_id>/treffen/<uuid:meeting_id>/entfernen")
@auth.admin_required
def unassign(organiser_id, meeting_id):
    with _engine().begin() as tx:
        _load(tx, organiser_id)
        accounts.unassign_organiser(tx, str(meeting_id), str(organiser_id), correlation_id=g.correlation_id)
    return redirect(url_for(".account_detail", organiser_id=organiser_id), 303)


@bp.post("/konten/<uuid:organiser_id>/aktiv")
@auth.admin_required
def set_active(organiser_id):
    if str(organiser_id) == auth.current_principal().id:
        return _detail(organiser_id, error="Sie können Ihr eigenes Konto nicht deaktivieren.", status=409)
    with _engine().begin() as tx:
        _load(tx, organiser_id)
        accounts.set_active(tx, str(organiser_id), request.form.get("active") == "yes",
                            correlation_id=g.correlation_id)
    return redirect(url_for(".account_detail", organiser_id=organiser_id), 303)
