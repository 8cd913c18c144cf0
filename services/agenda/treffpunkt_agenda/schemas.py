"""What the organiser API accepts and returns."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema, post_load
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from treffpunkt_shared.timeutil import aware


def _zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("Unbekannte Zeitzone.") from None


class VenueInput(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    address = fields.String(load_default="", validate=validate.Length(max=300))
    room = fields.String(load_default="", validate=validate.Length(max=200))


class MeetingInput(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    series = fields.String(load_default="", validate=validate.Length(max=200))
    number = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=10000))
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    timezone = fields.String(load_default="Europe/Berlin", validate=_zone)
    host = fields.String(load_default="", validate=validate.Length(max=300))
    venue = fields.Nested(VenueInput, required=True)
    theme = fields.String(load_default="", validate=validate.Length(max=300))
    description = fields.String(load_default="", validate=validate.Length(max=10000))
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=100000))
    registration_opens_at = fields.DateTime(load_default=None, allow_none=True)
    registration_closes_at = fields.DateTime(load_default=None, allow_none=True)

    @post_load
    def _localise(self, data, **kwargs):
        # A time typed without an offset means local time where the meeting takes place.
        for key in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
            if data.get(key) is not None:
                data[key] = aware(data[key], data["timezone"])
        return data

    @validates_schema
    def _order(self, data, **kwargs):
        zone = data.get("timezone", "Europe/Berlin")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            return
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and aware(ends, zone) <= aware(starts, zone):
            raise ValidationError("Das Ende muss nach dem Beginn liegen.", "ends_at")
        opens, closes = data.get("registration_opens_at"), data.get("registration_closes_at")
        if opens and closes and aware(closes, zone) <= aware(opens, zone):
            raise ValidationError("Die Anmeldung muss nach ihrem Beginn schließen.", "registration_closes_at")


class VenueOutput(Schema):
    name = fields.String()
    address = fields.String()
    room = fields.String()


class MeetingOutput(Schema):
    id = fields.String()
    title = fields.String()
    series = fields.String()
    number = fields.Integer(allow_none=True)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    timezone = fields.String()
    host = fields.String()
    venue = fields.Nested(VenueOutput)
    theme = fields.String()
    description = fields.String()
    capacity = fields.Integer()
    registration_opens_at = fields.DateTime(allow_none=True)
    registration_closes_at = fields.DateTime(allow_none=True)
    status = fields.String()
    revision = fields.Integer()
