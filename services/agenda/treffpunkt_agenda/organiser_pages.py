"""The organisers' HTML pages: meetings, the meeting form, status actions, the programme editor, the rounds
and a preview of the public page.

Server-rendered, usable without JavaScript, German first with English via the catalogue. Every change is a
POST form carrying ``csrf_field()`` and answered with a redirect (post/redirect/get); a form with errors is
shown again with the entered values, each message at its field and in a summary at the top.

Access: :mod:`organiser_access` guards the blueprint and every view calls ``_may_manage(meeting_id)`` before
it touches a meeting (placeholders until the auth merge).
"""
from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.exceptions import Conflict, NotFound

from treffpunkt_shared.contracts import AGENDA_ITEM_KINDS, ROUND_KINDS
from treffpunkt_shared.http import InvalidInput
from treffpunkt_shared.timeutil import format_date

from treffpunkt_shared.auth import current_principal
from treffpunkt_shared.csrf import CSRF_FIELD

from . import organiser_access
from .catalog import catalog
from .ical import KIND_LABELS
from .meetings import (EDITABLE, TRANSITIONS, MeetingNotEditable, MeetingNotFound, StatusChangeRefused,
                       change_status, create_meeting, get_meeting, list_meetings, meeting_as_input, update_meeting)
from .organiser_access import _may_manage
from .programme import AgendaHasProblems, ItemNotFound, NotPossible, Programme, announce_agenda_change
from .public import render_meeting_page
from .schemas import AgendaItemInput, MeetingInput
from .uploads import MAX_DOCUMENT_BYTES, checked_document

bp = Blueprint("organiser", __name__, url_prefix="/organiser")
organiser_access.install(bp)

DAY_ROWS, ROOM_ROWS, SPEAKER_ROWS, MODERATOR_ROWS = 3, 6, 3, 2
DOCUMENT_KINDS = {"slides": "Folien", "minutes": "Protokoll", "other": "Sonstiges"}
STATUS_LABELS = {"draft": "Entwurf", "published": "veröffentlicht", "closed": "Anmeldung geschlossen",
                 "archived": "archiviert", "cancelled": "abgesagt"}
AGENDA_STATUS_LABELS = {"draft": "nicht veröffentlicht", "published": "veröffentlicht"}
# What each status action is called, what it does, and whether it can be undone.
STATUS_ACTIONS = {
    "published": ("Treffen veröffentlichen", "Das Treffen wird öffentlich sichtbar und die Anmeldung öffnet."),
    "reopen": ("Anmeldung wieder öffnen", "Das Treffen wird wieder veröffentlicht und die Anmeldung öffnet."),
    "closed": ("Anmeldung schließen", "Neue Anmeldungen sind nicht mehr möglich; die Seite bleibt sichtbar."),
    "archived": ("Treffen archivieren", "Das Treffen kann danach nicht mehr geändert werden."),
    "cancelled": ("Treffen absagen", "Das Treffen wird als abgesagt angezeigt. Das lässt sich nicht rückgängig machen."),
}
NOTICES = {
    "created": "Das Treffen wurde angelegt.",
    "saved": "Die Änderungen wurden gespeichert.",
    "status-published": "Das Treffen ist veröffentlicht.",
    "status-closed": "Die Anmeldung ist geschlossen.",
    "status-archived": "Das Treffen ist archiviert.",
    "status-cancelled": "Das Treffen ist abgesagt.",
    "item-added": "Der Programmpunkt wurde hinzugefügt.",
    "item-saved": "Der Programmpunkt wurde gespeichert.",
    "item-cancelled": "Der Programmpunkt ist abgesagt.",
    "item-reinstated": "Der Programmpunkt findet wieder statt.",
    "item-deleted": "Der Programmpunkt wurde gelöscht.",
    "document-added": "Das Dokument wurde hochgeladen.",
    "document-deleted": "Das Dokument wurde gelöscht.",
    "agenda-published": "Das Programm ist veröffentlicht.",
    "result-saved": "Das Ergebnis wurde gespeichert.",
    "result-published": "Das Ergebnis ist veröffentlicht.",
}

# marshmallow's own messages are English only.
_FIXED_MESSAGES = {
    "Not a valid integer.": ("Bitte eine ganze Zahl eingeben.", "Please enter a whole number."),
    "Not a valid date.": ("Bitte ein gültiges Datum eingeben.", "Please enter a valid date."),
    "Not a valid time.": ("Bitte eine Uhrzeit wie 10:30 eingeben.", "Please enter a time such as 10:30."),
    "Not a valid datetime.": ("Bitte Datum und Uhrzeit eingeben.", "Please enter a date and a time."),
    "Field may not be null.": ("Pflichtfeld.", "Required."),
    "Missing data for required field.": ("Pflichtfeld.", "Required."),
}
_PATTERNS = (
    (re.compile(r"Must be greater than or equal to (\d+) and less than or equal to (\d+)\."),
     "Bitte eine Zahl von {0} bis {1} eingeben.", "Please enter a number from {0} to {1}."),
    (re.compile(r"Length must be between \d+ and (\d+)\."),
     "Bitte ausfüllen, höchstens {0} Zeichen.", "Please fill in, at most {0} characters."),
    (re.compile(r"Longer than maximum length (\d+)\."), "Höchstens {0} Einträge oder Zeichen.",
     "At most {0} entries or characters."),
)


def _programme() -> Programme:
    return current_app.extensions["treffpunkt"]["programme"]


def _engine():
    return _programme().engine


def _lang() -> str:
    return g.get("lang", "de")


def _t(text: str) -> str:
    return catalog.gettext(text, _lang())


def message(text: str) -> str:
    """One validation message in the page's language (domain messages are written "Deutsch. / English.")."""
    german, english = text, None
    if text in _FIXED_MESSAGES:
        german, english = _FIXED_MESSAGES[text]
    else:
        for pattern, de, en in _PATTERNS:
            found = pattern.fullmatch(text)
            if found:
                german, english = de.format(*found.groups()), en.format(*found.groups())
                break
        else:
            if " / " in text:
                german, english = text.split(" / ", 1)
    if _lang() == "en":
        return english if english is not None else catalog.gettext(german, "en")
    return german


def flatten_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested errors as ``{"days-0-date": [message, …]}``: the keys are the form fields' ids."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            if key == "_schema":
                key = "form"
            name = f"{prefix}-{key}" if prefix else str(key)
            for field, messages in flatten_errors(value, name).items():
                flat.setdefault(field, []).extend(messages)
    elif isinstance(errors, (list, tuple)):
        for value in errors:
            for field, messages in flatten_errors(value, prefix).items():
                flat.setdefault(field, []).extend(messages)
    elif isinstance(errors, str):
        flat[prefix or "form"] = [message(errors)]
    return flat


def _renumber(errors: dict, key: str, rows: list[int]) -> None:
    """Rows left empty are not sent to the schema: give its row errors the numbers of the form's rows."""
    nested = errors.get(key)
    if isinstance(nested, dict):
        errors[key] = {(rows[k] if isinstance(k, int) and k < len(rows) else k): v for k, v in nested.items()}


def _notice():
    code = request.args.get("notice")
    return _t(NOTICES[code]) if code in NOTICES else None


def _meeting(meeting_id) -> dict:
    _may_manage(meeting_id)
    try:
        return get_meeting(_engine(), str(meeting_id))
    except MeetingNotFound:
        raise NotFound(_t("Dieses Treffen gibt es nicht.")) from None


def _refused(exc: Exception):
    """A domain refusal as an HTTP error with a message in the page's language."""
    if isinstance(exc, ItemNotFound):
        return NotFound(_t("Diesen Programmpunkt gibt es nicht."))
    if isinstance(exc, MeetingNotEditable):
        return Conflict(_t("Ein Treffen in diesem Status kann nicht mehr geändert werden.")
                        + f" ({_t(STATUS_LABELS.get(exc.status, exc.status))})")
    if isinstance(exc, StatusChangeRefused):
        return Conflict(_t("Dieser Statuswechsel ist nicht möglich.")
                        + f" ({_t(STATUS_LABELS[exc.current])} → {_t(STATUS_LABELS.get(exc.wanted, exc.wanted))})")
    if isinstance(exc, NotPossible):
        return Conflict(message(exc.message))
    return exc


def _problem_view(problem, items_by_id: dict) -> dict:
    return {"severity": problem.severity, "code": problem.code,
            "message": problem.message_en if _lang() == "en" else problem.message_de,
            "items": [items_by_id[i] for i in problem.item_ids if i in items_by_id]}


def _local(value, zone: str):
    return value.astimezone(ZoneInfo(zone))


def _status_actions(meeting: dict) -> list[dict]:
    actions = []
    for wanted in ("published", "closed", "archived", "cancelled"):
        if wanted not in TRANSITIONS[meeting["status"]] or (wanted == meeting["status"]):
            continue
        key = "reopen" if wanted == "published" and meeting["status"] == "closed" else wanted
        label, explanation = STATUS_ACTIONS[key]
        actions.append({"status": wanted, "label": label, "explanation": explanation})
    return actions


def _redirect(endpoint: str, notice: str | None = None, anchor: str | None = None, **values):
    url = url_for(endpoint, notice=notice, **values) if notice else url_for(endpoint, **values)
    return redirect(url + (f"#{anchor}" if anchor else ""), 303)


@bp.app_context_processor
def _organiser_helpers():
    return {"status_labels": STATUS_LABELS, "agenda_status_labels": AGENDA_STATUS_LABELS,
            "kind_labels": KIND_LABELS}


# --- meetings ------------------------------------------------------------------------------------------------

@bp.get("/")
def meetings():
    return render_template("organiser_meetings.html", meetings=list_meetings(_engine()), notice=_notice())


def _meeting_values(meeting: dict | None) -> dict:
    """The meeting form's values (all strings) for an existing meeting, or the defaults of a new one."""
    if meeting is None:
        return {"timezone": "Europe/Berlin"}
    data = meeting_as_input(meeting)
    values = {k: "" if data[k] is None else str(data[k])
              for k in ("title", "series", "number", "host", "theme", "description", "capacity", "timezone")}
    values |= {"venue-name": data["venue"]["name"], "venue-address": data["venue"]["address"],
               "venue-room": data["venue"]["room"],
               "registration_opens_at": (data["registration_opens_at"] or "")[:16],
               "registration_closes_at": (data["registration_closes_at"] or "")[:16]}
    for i, day in enumerate(data["days"]):
        values |= {f"days-{i}-date": day["date"], f"days-{i}-starts": day["starts"], f"days-{i}-ends": day["ends"]}
    for i, room in enumerate(data["rooms"]):
        values |= {f"rooms-{i}-room_id": room["room_id"], f"rooms-{i}-name": room["name"],
                   f"rooms-{i}-capacity": "" if room["capacity"] is None else str(room["capacity"])}
    return values


def _rows(values: dict, group: str, minimum: int, spare: int) -> int:
    """How many rows of a repeated group the form shows: those filled in, some blank ones, at least ``minimum``."""
    used = [int(k.split("-")[1]) for k, v in values.items()
            if v and k.startswith(f"{group}-") and k.count("-") == 2 and k.split("-")[1].isdigit()]
    used = [i for i in used if i < 100]  # a forged field name does not make the form endless
    return max(minimum, (max(used) + 1 + spare) if used else 0)


def _form_values() -> dict:
    return {k: v.strip() if k not in ("description", "guiding_questions") else v.strip("\r\n")
            for k, v in request.form.items() if k != CSRF_FIELD}


def _meeting_input(values: dict) -> tuple[dict | None, dict]:
    """The form's values as a validated ``MeetingInput``, or the errors per form field."""
    def optional(key):
        return values.get(key) or None

    submitted = {"series": values.get("series", ""), "number": optional("number"), "host": values.get("host", ""),
                 "theme": values.get("theme", ""), "description": values.get("description", ""),
                 "timezone": values.get("timezone") or "Europe/Berlin",
                 "venue": {"address": values.get("venue-address", ""), "room": values.get("venue-room", "")},
                 "registration_opens_at": optional("registration_opens_at"),
                 "registration_closes_at": optional("registration_closes_at")}
    for key in ("title", "capacity"):
        if values.get(key):
            submitted[key] = values[key]
    if values.get("venue-name"):
        submitted["venue"]["name"] = values["venue-name"]
    days, day_rows = [], []
    for i in range(_rows(values, "days", 0, 0)):
        row = {k: values.get(f"days-{i}-{k}", "") for k in ("date", "starts", "ends")}
        for key in ("starts", "ends"):  # typed as text: "9:30" and "9.30" mean 09:30
            parsed = _parse_time(row[key])
            row[key] = f"{parsed:%H:%M}" if parsed else row[key]
        if any(row.values()):
            days.append({k: v for k, v in row.items() if v})
            day_rows.append(i)
    rooms, room_rows = [], []
    for i in range(_rows(values, "rooms", 0, 0)):
        name, capacity = values.get(f"rooms-{i}-name", ""), values.get(f"rooms-{i}-capacity", "")
        if name or capacity:  # a known room whose name was emptied is removed
            room = {"room_id": values.get(f"rooms-{i}-room_id") or None, "capacity": capacity or None}
            if name:
                room["name"] = name
            rooms.append(room)
            room_rows.append(i)
    submitted["days"], submitted["rooms"] = days or None, rooms
    try:
        data = MeetingInput().load(submitted)
    except ValidationError as exc:
        errors = dict(exc.messages)
    else:
        return data, {}
    _renumber(errors, "days", day_rows)
    _renumber(errors, "rooms", room_rows)
    if not days:
        errors.pop("starts_at", None)
        errors.pop("ends_at", None)
        errors["days"] = ["Bitte mindestens einen Tag mit Beginn und Ende angeben. / "
                          "Please give at least one day with its start and end."]
    return None, _meeting_errors(errors)


def _meeting_errors(errors: dict) -> dict:
    flat = flatten_errors(errors)
    # Errors of a whole group are shown at the group and linked to its first field.
    for group, first in (("days", "days-0-date"), ("rooms", "rooms-0-name")):
        if group in flat:
            flat[f"{group}-group"] = flat.pop(group)
    return flat


def _render_meeting_form(meeting, values, errors, status=200, problems=None):
    return render_template(
        "organiser_meeting_form.html", meeting=meeting, values=values, errors=errors, problems=problems or [],
        day_rows=_rows(values, "days", DAY_ROWS, 1), room_rows=_rows(values, "rooms", ROOM_ROWS, 2)), status


@bp.get("/meetings/new")
def new_meeting():
    return _render_meeting_form(None, _meeting_values(None), {})


@bp.post("/meetings/new")
def create():
    values = _form_values()
    data, errors = _meeting_input(values)
    if errors:
        return _render_meeting_form(None, values, errors, 422)
    try:
        meeting = create_meeting(_engine(), data, organiser_id=current_principal().id)
    except InvalidInput as exc:
        return _render_meeting_form(None, values, _meeting_errors(exc.errors), 422)
    return _redirect(".meeting", "created", meeting_id=meeting["id"])


@bp.get("/meetings/<uuid:meeting_id>")
def meeting(meeting_id):
    found = _meeting(meeting_id)
    programme = _programme()
    items = programme.items(found["id"])
    problems = programme.problems(found["id"])
    return render_template("organiser_meeting.html", meeting=found, items=items, problems=problems,
                           actions=_status_actions(found), notice=_notice(), editable=found["status"] in EDITABLE)


@bp.get("/meetings/<uuid:meeting_id>/edit")
def edit_meeting(meeting_id):
    found = _meeting(meeting_id)
    if found["status"] not in EDITABLE:
        raise _refused(MeetingNotEditable(found["status"]))
    return _render_meeting_form(found, _meeting_values(found), {})


@bp.post("/meetings/<uuid:meeting_id>/edit")
def update(meeting_id):
    found = _meeting(meeting_id)
    values = _form_values()
    data, errors = _meeting_input(values)
    if errors:
        return _render_meeting_form(found, values, errors, 422)
    programme = _programme()

    def recheck(tx, mid):
        announce_agenda_change(tx, mid, programme.base_url, correlation_id=g.correlation_id)

    try:
        update_meeting(_engine(), found["id"], data, correlation_id=g.correlation_id, after_change=recheck)
    except InvalidInput as exc:
        return _render_meeting_form(found, values, _meeting_errors(exc.errors), 422)
    except AgendaHasProblems as exc:
        items = {i["item_id"]: i for i in programme.items(found["id"])}
        return _render_meeting_form(found, values, {}, 409, [_problem_view(p, items) for p in exc.problems])
    except (MeetingNotEditable, MeetingNotFound) as exc:
        raise _refused(exc) from None
    return _redirect(".meeting", "saved", meeting_id=found["id"])


@bp.get("/meetings/<uuid:meeting_id>/status/<any(published, closed, archived, cancelled):status>")
def confirm_status(meeting_id, status):
    found = _meeting(meeting_id)
    action = next((a for a in _status_actions(found) if a["status"] == status), None)
    if action is None:
        raise _refused(StatusChangeRefused(found["status"], status))
    return render_template("organiser_confirm.html", meeting=found, heading=action["label"],
                           explanation=action["explanation"], button=action["label"],
                           action_url=url_for(".set_status", meeting_id=found["id"]),
                           hidden={"status": status}, back_url=url_for(".meeting", meeting_id=found["id"]),
                           danger=status in ("cancelled", "archived"))


@bp.post("/meetings/<uuid:meeting_id>/status")
def set_status(meeting_id):
    found = _meeting(meeting_id)
    wanted = request.form.get("status", "")
    if wanted not in STATUS_ACTIONS or wanted == "reopen":
        raise _refused(StatusChangeRefused(found["status"], wanted))
    try:
        change_status(_engine(), found["id"], wanted, correlation_id=g.correlation_id)
    except StatusChangeRefused as exc:
        raise _refused(exc) from None
    return _redirect(".meeting", f"status-{wanted}", meeting_id=found["id"])


@bp.get("/meetings/<uuid:meeting_id>/preview")
def preview(meeting_id):
    found = _meeting(meeting_id)
    return render_meeting_page(found, _programme().items(found["id"], with_results=True), preview=True)


# --- the programme editor -------------------------------------------------------------------------------------

def _timeline(meeting: dict, items: list[dict]) -> list[dict]:
    """Per day a grid: one column per room, one row per start time; parallel items share a row."""
    zone = meeting["timezone"]
    dates = [d["date"] for d in meeting["days"]]
    for item in items:
        day = _local(item["starts_at"], zone).date()
        if day not in dates:
            dates.append(day)
    columns = [{"room_id": r["room_id"], "name": r["name"], "capacity": r["capacity"]} for r in meeting["rooms"]]
    if any(i["room_id"] is None for i in items):
        columns.append({"room_id": None, "name": _t("ohne Raum"), "capacity": None})
    days = []
    for day in sorted(dates):
        day_items = [i for i in items if _local(i["starts_at"], zone).date() == day]
        starts = sorted({i["starts_at"] for i in day_items})
        rows = [{"starts_at": start,
                 "cells": [[i for i in day_items if i["starts_at"] == start and i["room_id"] == c["room_id"]]
                           for c in columns]} for start in starts]
        meeting_day = next((d for d in meeting["days"] if d["date"] == day), None)
        label = format_date(datetime.combine(day, time(12), ZoneInfo(zone)), _lang(), zone)
        days.append({"date": day, "iso": day.isoformat(), "label": label, "meeting_day": meeting_day,
                     "columns": columns, "rows": rows})
    return days


def _render_programme(found: dict, status: int = 200, refused=None, refusal: str | None = None):
    programme = _programme()
    items = programme.items(found["id"])
    by_id = {i["item_id"]: i for i in items}
    problems = [_problem_view(p, by_id) for p in programme.problems(found["id"])]
    flagged: dict[str, int] = {}
    for p in problems:
        for item in p["items"]:
            flagged[item["item_id"]] = flagged.get(item["item_id"], 0) + 1
    return render_template(
        "organiser_programme.html", meeting=found, days=_timeline(found, items),
        problems=problems, flagged=flagged, notice=_notice(), editable=found["status"] in EDITABLE,
        refused=[_problem_view(p, by_id) for p in refused or []], refusal=refusal,
        rooms=found["rooms"], has_unroomed=any(i["room_id"] is None for i in items)), status


@bp.get("/meetings/<uuid:meeting_id>/programme")
def programme(meeting_id):
    return _render_programme(_meeting(meeting_id))


@bp.post("/meetings/<uuid:meeting_id>/programme/publish")
def publish_agenda(meeting_id):
    found = _meeting(meeting_id)
    try:
        _programme().publish_agenda(found["id"], correlation_id=g.correlation_id)
    except AgendaHasProblems as exc:
        return _render_programme(found, 409, refused=exc.problems)
    except NotPossible as exc:
        return _render_programme(found, 409, refusal=message(exc.message))
    except MeetingNotEditable as exc:
        raise _refused(exc) from None
    return _redirect(".programme", "agenda-published", meeting_id=found["id"])


def _item_values(meeting: dict, item: dict | None, day: str | None = None) -> dict:
    if item is None:
        first = day or (meeting["days"][0]["date"].isoformat() if meeting["days"] else "")
        return {"kind": "talk", "day": first}
    zone = meeting["timezone"]
    starts, ends = _local(item["starts_at"], zone), _local(item["ends_at"], zone)
    values = {"kind": item["kind"], "title": item["title"], "description": item["description"],
              "day": starts.date().isoformat(), "starts": f"{starts:%H:%M}", "ends": f"{ends:%H:%M}",
              "room_id": item["room_id"] or "", "capacity": "" if item["capacity"] is None else str(item["capacity"]),
              "guiding_questions": "\n".join(item["guiding_questions"])}
    for role in ("speakers", "moderators"):
        for i, person in enumerate(item[role]):
            values |= {f"{role}-{i}-{k}": person[k] for k in ("name", "function", "authority")}
    return values


def _parse_time(text: str) -> time | None:
    if not re.fullmatch(r"\d{1,2}[:.]\d{2}", text or ""):
        return None
    try:
        return time.fromisoformat(text.replace(".", ":").zfill(5))
    except ValueError:
        return None


def _item_input(meeting: dict, values: dict) -> tuple[dict | None, dict]:
    """The item form's values as a validated ``AgendaItemInput``, or the errors per form field."""
    own: dict[str, list] = {}
    dates = {d["date"].isoformat() for d in meeting["days"]}
    day = values.get("day", "")
    if day not in dates:
        own["day"] = ["Bitte einen der Tage des Treffens wählen. / Please choose one of the meeting's days."]
    times = {}
    for key in ("starts", "ends"):
        if not values.get(key):
            own[key] = ["Pflichtfeld. / Required."]
        elif (parsed := _parse_time(values[key])) is None:
            own[key] = ["Bitte eine Uhrzeit wie 10:30 eingeben. / Please enter a time such as 10:30."]
        else:
            times[key] = parsed
    if len(times) == 2 and times["ends"] <= times["starts"]:
        # Also when other fields are wrong (the schema checks the order only once every field is right).
        own["ends"] = ["Das Ende muss nach dem Beginn liegen. / The end must be after the start."]
    submitted = {"kind": values.get("kind", ""), "description": values.get("description", ""),
                 "room_id": values.get("room_id") or None, "capacity": values.get("capacity") or None,
                 "guiding_questions": [line.strip() for line in values.get("guiding_questions", "").splitlines()
                                       if line.strip()]}
    if values.get("title"):
        submitted["title"] = values["title"]
    if "day" not in own and len(times) == 2:
        submitted["starts_at"] = f"{day}T{times['starts']:%H:%M}"
        submitted["ends_at"] = f"{day}T{times['ends']:%H:%M}"
    rows = {}
    for role, count in (("speakers", SPEAKER_ROWS), ("moderators", MODERATOR_ROWS)):
        people, rows[role] = [], []
        for i in range(_rows(values, role, count, 0)):
            person = {k: values.get(f"{role}-{i}-{k}", "") for k in ("name", "function", "authority")}
            if any(person.values()):
                people.append({k: v for k, v in person.items() if v or k != "name"})
                rows[role].append(i)
        submitted[role] = people
    try:
        data = AgendaItemInput().load(submitted)
    except ValidationError as exc:
        errors = dict(exc.messages)
        data = None
    else:
        errors = {}
    for role in rows:
        _renumber(errors, role, rows[role])
    if "guiding_questions" in errors and isinstance(errors["guiding_questions"], dict):
        errors["guiding_questions"] = [f"{k + 1}: {m}" for k, msgs in errors["guiding_questions"].items()
                                       for m in msgs]
    if "starts_at" in errors or "ends_at" in errors:
        if "starts_at" not in submitted:  # the schema only misses what the own checks already explain
            errors.pop("starts_at", None)
            errors.pop("ends_at", None)
        else:
            for field, key in (("starts", "starts_at"), ("ends", "ends_at")):
                for text in errors.pop(key, []):
                    if text not in own.get(field, []):
                        own.setdefault(field, []).append(text)
    errors |= own
    if errors:
        return None, _item_errors(errors)
    return data, {}


def _item_errors(errors: dict) -> dict:
    flat = flatten_errors(errors)
    for old, new in (("starts_at", "starts"), ("ends_at", "ends")):
        if old in flat:
            flat.setdefault(new, []).extend(flat.pop(old))
    return flat


def _render_item_form(found: dict, item: dict | None, values: dict, errors: dict, status: int = 200,
                      refused=None):
    by_id = {i["item_id"]: i for i in _programme().items(found["id"])}
    problems = []
    if item is not None:
        problems = [_problem_view(p, by_id) for p in _programme().problems(found["id"])
                    if item["item_id"] in p.item_ids]
    zone = found["timezone"]
    day_options = [(d["date"].isoformat(), format_date(d["starts_at"], _lang(), zone)) for d in found["days"]]
    return render_template(
        "organiser_item_form.html", meeting=found, item=item, values=values, errors=errors, problems=problems,
        day_options=day_options,
        refused=[_problem_view(p, by_id) for p in refused or []], kinds=AGENDA_ITEM_KINDS, round_kinds=ROUND_KINDS,
        document_kinds=DOCUMENT_KINDS, speaker_rows=_rows(values, "speakers", SPEAKER_ROWS, 1),
        moderator_rows=_rows(values, "moderators", MODERATOR_ROWS, 1), notice=_notice(),
        editable=found["status"] in EDITABLE), status


def _editable_meeting(meeting_id) -> dict:
    found = _meeting(meeting_id)
    if found["status"] not in EDITABLE:
        raise _refused(MeetingNotEditable(found["status"]))
    return found


def _item(found: dict, item_id) -> dict:
    try:
        return _programme().item(found["id"], str(item_id))
    except ItemNotFound as exc:
        raise _refused(exc) from None


@bp.get("/meetings/<uuid:meeting_id>/items/new")
def new_item(meeting_id):
    found = _editable_meeting(meeting_id)
    values = _item_values(found, None, request.args.get("day"))
    for key in ("starts", "room_id", "kind"):
        if request.args.get(key):
            values[key] = request.args[key]
    return _render_item_form(found, None, values, {})


@bp.post("/meetings/<uuid:meeting_id>/items/new")
def add_item(meeting_id):
    found = _editable_meeting(meeting_id)
    values = _form_values()
    data, errors = _item_input(found, values)
    if errors:
        return _render_item_form(found, None, values, errors, 422)
    try:
        item_id = _programme().add_item(found["id"], data, correlation_id=g.correlation_id)
    except InvalidInput as exc:
        return _render_item_form(found, None, values, _item_errors(exc.errors), 422)
    except AgendaHasProblems as exc:
        return _render_item_form(found, None, values, {}, 409, refused=exc.problems)
    except MeetingNotEditable as exc:
        raise _refused(exc) from None
    return _redirect(".programme", "item-added", anchor=f"item-{item_id}", meeting_id=found["id"])


@bp.get("/meetings/<uuid:meeting_id>/items/<uuid:item_id>")
def edit_item(meeting_id, item_id):
    found = _meeting(meeting_id)
    item = _item(found, item_id)
    return _render_item_form(found, item, _item_values(found, item), {})


@bp.post("/meetings/<uuid:meeting_id>/items/<uuid:item_id>")
def update_item(meeting_id, item_id):
    found = _editable_meeting(meeting_id)
    item = _item(found, item_id)
    values = _form_values()
    data, errors = _item_input(found, values)
    if errors:
        return _render_item_form(found, item, values, errors, 422)
    try:
        _programme().update_item(found["id"], item["item_id"], data, correlation_id=g.correlation_id)
    except InvalidInput as exc:
        return _render_item_form(found, item, values, _item_errors(exc.errors), 422)
    except AgendaHasProblems as exc:
        return _render_item_form(found, item, values, {}, 409, refused=exc.problems)
    except (MeetingNotEditable, ItemNotFound) as exc:
        raise _refused(exc) from None
    return _redirect(".programme", "item-saved", anchor=f"item-{item['item_id']}", meeting_id=found["id"])


def _item_status(meeting_id, item_id, status: str, notice: str):
    found = _editable_meeting(meeting_id)
    item = _item(found, item_id)
    try:
        _programme().set_item_status(found["id"], item["item_id"], status, correlation_id=g.correlation_id)
    except AgendaHasProblems as exc:
        return _render_programme(found, 409, refused=exc.problems)
    except (MeetingNotEditable, ItemNotFound) as exc:
        raise _refused(exc) from None
    return _redirect(".programme", notice, anchor=f"item-{item['item_id']}", meeting_id=found["id"])


@bp.post("/meetings/<uuid:meeting_id>/items/<uuid:item_id>/cancel")
def cancel_item(meeting_id, item_id):
    return _item_status(meeting_id, item_id, "cancelled", "item-cancelled")


@bp.post("/meetings/<uuid:meeting_id>/items/<uuid:item_id>/reinstate")
def reinstate_item(meeting_id, item_id):
    return _item_status(meeting_id, item_id, "scheduled", "item-reinstated")


@bp.get("/meetings/<uuid:meeting_id>/items/<uuid:item_id>/delete")
def confirm_delete_item(meeting_id, item_id):
    found = _editable_meeting(meeting_id)
    item = _item(found, item_id)
    published = found["agenda_status"] == "published"
    return render_template(
        "organiser_confirm.html", meeting=found, heading=_t("Programmpunkt löschen") + f": {item['title']}",
        explanation=_t("Der Programmpunkt wird endgültig gelöscht.") + (
            " " + _t("Das Programm ist veröffentlicht: Absagen statt Löschen zeigt den Teilnehmenden, was "
                     "entfällt.") if published else ""),
        button=_t("Endgültig löschen"), action_url=url_for(".delete_item", meeting_id=found["id"],
                                                          item_id=item["item_id"]),
        hidden={}, back_url=url_for(".edit_item", meeting_id=found["id"], item_id=item["item_id"]), danger=True,
        translated=True)


@bp.post("/meetings/<uuid:meeting_id>/items/<uuid:item_id>/delete")
def delete_item(meeting_id, item_id):
    found = _editable_meeting(meeting_id)
    item = _item(found, item_id)
    try:
        _programme().delete_item(found["id"], item["item_id"], correlation_id=g.correlation_id)
    except AgendaHasProblems as exc:
        return _render_programme(found, 409, refused=exc.problems)
    except (MeetingNotEditable, ItemNotFound) as exc:
        raise _refused(exc) from None
    return _redirect(".programme", "item-deleted", meeting_id=found["id"])


@bp.post("/meetings/<uuid:meeting_id>/items/<uuid:item_id>/documents")
def upload_document(meeting_id, item_id):
    found = _editable_meeting(meeting_id)
    item = _item(found, item_id)
    kind = request.form.get("document_kind", "slides")
    upload = request.files.get("file")
    errors = {}
    if kind not in DOCUMENT_KINDS:
        errors["document_kind"] = [message("Bitte eine Art wählen. / Please choose a kind.")]
    try:
        if upload is None or not upload.filename:
            raise InvalidInput({"file": ["Bitte eine Datei auswählen. / Please choose a file."]})
        content = upload.read(MAX_DOCUMENT_BYTES + 1)
        filename, content_type = checked_document(upload.filename, content)
    except InvalidInput as exc:
        errors |= flatten_errors(exc.errors)
    if not errors:
        try:
            _programme().add_document(found["id"], item["item_id"], kind=kind, filename=filename,
                                      content_type=content_type, data=content, correlation_id=g.correlation_id)
        except AgendaHasProblems as exc:
            return _render_item_form(found, item, _item_values(found, item), {}, 409, refused=exc.problems)
        except (MeetingNotEditable, ItemNotFound) as exc:
            raise _refused(exc) from None
        return _redirect(".edit_item", "document-added", anchor="documents", meeting_id=found["id"],
                         item_id=item["item_id"])
    values = _item_values(found, item) | {"document_kind": kind}
    return _render_item_form(found, item, values, errors, 422)


@bp.post("/meetings/<uuid:meeting_id>/documents/<uuid:document_id>/delete")
def delete_document(meeting_id, document_id):
    found = _editable_meeting(meeting_id)
    owner = next((i for i in _programme().items(found["id"])
                  if any(d["document_id"] == str(document_id) for d in i["documents"])), None)
    if owner is None:
        raise NotFound(_t("Dieses Dokument gibt es nicht."))
    try:
        _programme().delete_document(found["id"], str(document_id), correlation_id=g.correlation_id)
    except AgendaHasProblems as exc:
        return _render_item_form(found, owner, _item_values(found, owner), {}, 409, refused=exc.problems)
    except (MeetingNotEditable, ItemNotFound) as exc:
        raise _refused(exc) from None
    return _redirect(".edit_item", "document-deleted", anchor="documents", meeting_id=found["id"],
                     item_id=owner["item_id"])


# --- discussion rounds and their results ---------------------------------------------------------------------

def _render_rounds(found: dict, status: int = 200, errors: dict | None = None, values: dict | None = None):
    rounds = [i for i in _programme().items(found["id"], with_results=True) if i["kind"] in ROUND_KINDS]
    return render_template("organiser_rounds.html", meeting=found, rounds=rounds, errors=errors or {},
                           values=values or {}, notice=_notice()), status


@bp.get("/meetings/<uuid:meeting_id>/rounds")
def rounds(meeting_id):
    return _render_rounds(_meeting(meeting_id))


@bp.post("/meetings/<uuid:meeting_id>/items/<uuid:item_id>/result")
def save_result(meeting_id, item_id):
    found = _meeting(meeting_id)
    item = _item(found, item_id)
    text = request.form.get("result", "").strip()
    field = f"result-{item['item_id']}"
    if not text:
        return _render_rounds(found, 422, {field: [_t("Bitte ein Ergebnis eintragen.")]}, {field: text})
    if len(text) > 50000:
        return _render_rounds(found, 422, {field: [message("Longer than maximum length 50000.")]}, {field: text})
    try:
        _programme().set_result(found["id"], item["item_id"], text)
    except (NotPossible, ItemNotFound) as exc:
        raise _refused(exc) from None
    return _redirect(".rounds", "result-saved", anchor=f"round-{item['item_id']}", meeting_id=found["id"])


@bp.post("/meetings/<uuid:meeting_id>/items/<uuid:item_id>/result/publish")
def publish_result(meeting_id, item_id):
    found = _meeting(meeting_id)
    item = _item(found, item_id)
    field = f"result-{item['item_id']}"
    try:
        _programme().publish_result(found["id"], item["item_id"], correlation_id=g.correlation_id)
    except InvalidInput as exc:
        return _render_rounds(found, 422, {field: flatten_errors(exc.errors).get("result", [])})
    except NotPossible as exc:
        return _render_rounds(found, 409, {field: [message(exc.message)]})
    except ItemNotFound as exc:
        raise _refused(exc) from None
    return _redirect(".rounds", "result-published", anchor=f"round-{item['item_id']}", meeting_id=found["id"])
