"""What the organiser API accepts and returns. The marshmallow schemas are also the OpenAPI document."""
from __future__ import annotations

from datetime import datetime

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from treffpunkt_shared.contracts import AGENDA_ITEM_KINDS, ROUND_KINDS
from treffpunkt_shared.timeutil import aware

REQUIRED = {"required": "Pflichtfeld. / Required."}
TEXT_MAX = 300
NUL_MESSAGE = "Das Zeichen NUL ist nicht erlaubt. / The NUL character is not allowed."


def _nul_fields(data, path=()):
    """Where in the loaded data a string holds NUL (PostgreSQL cannot store it: a DataError, a 500)."""
    if isinstance(data, str):
        return [path] if "\x00" in data else []
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _nul_fields(v, path + (k,))]
    if isinstance(data, (list, tuple)):
        return [p for i, v in enumerate(data) for p in _nul_fields(v, path + (i,))]
    return []


class InputSchema(Schema):
    """Base of every schema the API and the pages load: no text may carry a NUL character."""

    # Also when other fields failed: every NUL gets its message in the same answer.
    @validates_schema(skip_on_field_errors=False)
    def _no_nul(self, data, **kwargs):
        # Own texts and lists of texts only: nested schemas report their own fields.
        found = [p for p in _nul_fields(data) if len(p) == 1 or (len(p) == 2 and isinstance(p[1], int))]
        if found:
            raise ValidationError({str(p[0]): [NUL_MESSAGE] for p in found})


def _zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("Unbekannte Zeitzone. / Unknown time zone.") from None


def _valid_zone(name: str) -> str:
    try:
        ZoneInfo(name)
        return name
    except (ZoneInfoNotFoundError, ValueError):
        return "Europe/Berlin"


class VenueInput(InputSchema):
    name = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=200))
    address = fields.String(load_default="", validate=validate.Length(max=300))
    room = fields.String(load_default="", validate=validate.Length(max=200))


class DayInput(InputSchema):
    date = fields.Date(required=True, error_messages=REQUIRED)
    starts = fields.Time(required=True, error_messages=REQUIRED)
    ends = fields.Time(required=True, error_messages=REQUIRED)

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("starts") and data.get("ends") and data["ends"] <= data["starts"]:
            raise ValidationError("Das Ende muss nach dem Beginn liegen. / The end must be after the start.", "ends")


class RoomInput(InputSchema):
    room_id = fields.String(load_default=None, allow_none=True)
    name = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=200))
    capacity = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=100000))


class MeetingInput(InputSchema):
    """A meeting as the organiser enters it. Either ``days`` or ``starts_at``/``ends_at`` (one span)."""

    title = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=TEXT_MAX))
    series = fields.String(load_default="", validate=validate.Length(max=200))
    number = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=10000))
    starts_at = fields.DateTime(load_default=None, allow_none=True)
    ends_at = fields.DateTime(load_default=None, allow_none=True)
    days = fields.List(fields.Nested(DayInput), load_default=None, allow_none=True,
                       validate=validate.Length(min=1, max=14))
    timezone = fields.String(load_default="Europe/Berlin", validate=_zone)
    host = fields.String(load_default="", validate=validate.Length(max=TEXT_MAX))
    venue = fields.Nested(VenueInput, required=True, error_messages=REQUIRED)
    rooms = fields.List(fields.Nested(RoomInput), load_default=None, allow_none=True,
                        validate=validate.Length(max=50))
    theme = fields.String(load_default="", validate=validate.Length(max=TEXT_MAX))
    description = fields.String(load_default="", validate=validate.Length(max=10000))
    capacity = fields.Integer(required=True, error_messages=REQUIRED, validate=validate.Range(min=1, max=100000))
    registration_opens_at = fields.DateTime(load_default=None, allow_none=True)
    registration_closes_at = fields.DateTime(load_default=None, allow_none=True)

    @validates_schema
    def _consistent(self, data, **kwargs):
        zone = _valid_zone(data.get("timezone") or "Europe/Berlin")
        days = data.get("days")
        if not days:
            if not data.get("starts_at"):
                raise ValidationError("Beginn oder Tage angeben. / Give a start or the days.", "starts_at")
            if not data.get("ends_at"):
                raise ValidationError("Ende oder Tage angeben. / Give an end or the days.", "ends_at")
            if aware(data["ends_at"], zone) <= aware(data["starts_at"], zone):
                raise ValidationError("Das Ende muss nach dem Beginn liegen. / The end must be after the start.",
                                      "ends_at")
        else:
            dates = [d["date"] for d in days]
            if len(set(dates)) != len(dates):
                raise ValidationError("Jeder Tag nur einmal. / Each day only once.", "days")
        opens, closes = data.get("registration_opens_at"), data.get("registration_closes_at")
        if opens and closes and aware(closes, zone) <= aware(opens, zone):
            raise ValidationError("Die Anmeldung muss nach ihrem Beginn schließen. / "
                                  "Registration must close after it opens.", "registration_closes_at")
        names = [r["name"].strip().casefold() for r in data.get("rooms") or []]
        if len(set(names)) != len(names):
            raise ValidationError("Jeder Raumname nur einmal. / Each room name only once.", "rooms")

    @post_load
    def _localise(self, data, **kwargs):
        # A time typed without an offset means local time where the meeting takes place.
        zone = ZoneInfo(data["timezone"])
        for key in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
            if data.get(key) is not None:
                data[key] = aware(data[key], data["timezone"])
        if data.get("days"):
            data["days"] = sorted(({"date": d["date"],
                                    "starts_at": datetime.combine(d["date"], d["starts"], zone),
                                    "ends_at": datetime.combine(d["date"], d["ends"], zone)}
                                   for d in data["days"]), key=lambda d: d["date"])
            data["starts_at"], data["ends_at"] = data["days"][0]["starts_at"], data["days"][-1]["ends_at"]
        else:
            data["days"] = [{"date": data["starts_at"].astimezone(zone).date(), "starts_at": data["starts_at"],
                             "ends_at": data["ends_at"]}]
        if data.get("rooms") is None:
            room = data["venue"]["room"]
            data["rooms"] = [{"room_id": None, "name": room, "capacity": None}] if room else []
        return data


class StatusInput(InputSchema):
    status = fields.String(required=True, error_messages=REQUIRED,
                           validate=validate.OneOf(["published", "closed", "archived", "cancelled"]))


class PersonInput(InputSchema):
    name = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=200))
    function = fields.String(load_default="", validate=validate.Length(max=200))
    authority = fields.String(load_default="", validate=validate.Length(max=TEXT_MAX))


class AgendaItemInput(InputSchema):
    kind = fields.String(required=True, error_messages=REQUIRED, validate=validate.OneOf(
        AGENDA_ITEM_KINDS, error="Unbekannte Art. / Unknown kind. Erlaubt / allowed: {choices}"))
    title = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=TEXT_MAX))
    description = fields.String(load_default="", validate=validate.Length(max=10000))
    starts_at = fields.DateTime(required=True, error_messages=REQUIRED)
    ends_at = fields.DateTime(required=True, error_messages=REQUIRED)
    room_id = fields.String(load_default=None, allow_none=True)
    speakers = fields.List(fields.Nested(PersonInput), load_default=list, validate=validate.Length(max=20))
    moderators = fields.List(fields.Nested(PersonInput), load_default=list, validate=validate.Length(max=10))
    capacity = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=100000))
    guiding_questions = fields.List(fields.String(validate=validate.Length(min=1, max=500)), load_default=list,
                                    validate=validate.Length(max=30))

    @validates_schema
    def _consistent(self, data, **kwargs):
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and (starts.tzinfo is None) == (ends.tzinfo is None) and ends <= starts:
            raise ValidationError("Das Ende muss nach dem Beginn liegen. / The end must be after the start.",
                                  "ends_at")
        if data.get("kind") not in ROUND_KINDS:
            if data.get("capacity"):
                raise ValidationError("Plätze gibt es nur bei Diskussionsrunden und Workshops. / "
                                      "Only discussion rounds and workshops have places.", "capacity")
            if data.get("guiding_questions"):
                raise ValidationError("Leitfragen gibt es nur bei Diskussionsrunden und Workshops. / "
                                      "Only discussion rounds and workshops have guiding questions.",
                                      "guiding_questions")


class ResultInput(InputSchema):
    result = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=50000))


class VenueOutput(Schema):
    name = fields.String()
    address = fields.String()
    room = fields.String()


class DayOutput(Schema):
    date = fields.Date()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()


class RoomOutput(Schema):
    room_id = fields.String()
    name = fields.String()
    capacity = fields.Integer(allow_none=True)


class MeetingOutput(Schema):
    id = fields.String()
    title = fields.String()
    series = fields.String()
    number = fields.Integer(allow_none=True)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    days = fields.List(fields.Nested(DayOutput))
    timezone = fields.String()
    host = fields.String()
    venue = fields.Nested(VenueOutput)
    rooms = fields.List(fields.Nested(RoomOutput))
    theme = fields.String()
    description = fields.String()
    capacity = fields.Integer()
    registration_opens_at = fields.DateTime(allow_none=True)
    registration_closes_at = fields.DateTime(allow_none=True)
    status = fields.String()
    revision = fields.Integer()
    agenda_status = fields.String()
    agenda_revision = fields.Integer()


class MeetingListOutput(Schema):
    meetings = fields.List(fields.Nested(MeetingOutput))


class PersonOutput(Schema):
    name = fields.String()
    function = fields.String()
    authority = fields.String()


class DocumentOutput(Schema):
    document_id = fields.String()
    kind = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    url = fields.String()


class AgendaItemOutput(Schema):
    item_id = fields.String()
    kind = fields.String()
    title = fields.String()
    description = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    room_id = fields.String(allow_none=True)
    room = fields.String(allow_none=True)
    status = fields.String()
    speakers = fields.List(fields.Nested(PersonOutput))
    moderators = fields.List(fields.Nested(PersonOutput))
    documents = fields.List(fields.Nested(DocumentOutput))
    capacity = fields.Integer(allow_none=True)
    guiding_questions = fields.List(fields.String())
    result = fields.String()
    result_published_at = fields.DateTime(allow_none=True)


class ProblemOutput(Schema):
    code = fields.String()
    severity = fields.String()
    message_de = fields.String()
    message_en = fields.String()
    item_ids = fields.List(fields.String())


class AgendaOutput(Schema):
    meeting_id = fields.String()
    agenda_status = fields.String()
    agenda_revision = fields.Integer()
    items = fields.List(fields.Nested(AgendaItemOutput))
    problems = fields.List(fields.Nested(ProblemOutput))


class ItemWithProblemsOutput(AgendaItemOutput):
    problems = fields.List(fields.Nested(ProblemOutput))


class DocumentUploadInput(InputSchema):
    kind = fields.String(load_default="slides", validate=validate.OneOf(["slides", "minutes", "other"]))
