"""What the sign-in and the account API and forms accept and return (messages in German; see catalog.py)."""
from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate

from treffpunkt_shared.auth import ROLES

from .accounts import password_problem
from .schemas import InputSchema

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
REQUIRED = {"required": "Pflichtfeld.", "null": "Pflichtfeld.", "invalid": "Bitte einen Text eingeben."}


def _password(value: str) -> None:
    problem = password_problem(value)
    if problem:
        raise ValidationError(problem)


def _no_control_characters(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError("Bitte keine Zeilenumbrüche oder Steuerzeichen verwenden.")


def _name_field(**kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=200, error="Bitte einen Namen mit 1 bis 200 Zeichen "
                                                                        "angeben."), _no_control_characters],
                         error_messages=REQUIRED, **kwargs)


def _role_field(**kwargs) -> fields.String:
    return fields.String(validate=validate.OneOf(ROLES, error="Unbekannte Rolle."), error_messages=REQUIRED, **kwargs)


class _German(InputSchema):
    error_messages = {"unknown": "Unbekanntes Feld.", "type": "Erwartet wird ein JSON-Objekt."}


class OrganiserInput(_German):
    email = fields.Email(required=True, validate=validate.Length(max=320, error="Die E-Mail-Adresse ist zu lang."),
                         error_messages={**REQUIRED, "invalid": "Bitte geben Sie eine gültige E-Mail-Adresse an."})
    name = _name_field(required=True)
    role = _role_field(load_default="organiser")
    password = fields.String(required=True, validate=_password, error_messages=REQUIRED)


class OrganiserChange(_German):
    name = _name_field()
    role = _role_field()
    active = fields.Boolean(error_messages={"invalid": "Bitte true oder false angeben.", "null": "Pflichtfeld."})
    password = fields.String(validate=_password, error_messages=REQUIRED)


class SessionInput(_German):
    email = fields.String(required=True, validate=validate.Length(min=1, max=320, error="Pflichtfeld."),
                          error_messages=REQUIRED)
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024, error="Pflichtfeld."),
                             error_messages=REQUIRED)


class OrganiserOutput(Schema):
    id = fields.String()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()
    meeting_ids = fields.List(fields.String())
