"""What a participant may send when registering, with a clear German message for every mistake."""
from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, pre_load, validate

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_control_characters(value: str) -> None:
    # Line breaks in a name would end up in email headers: refuse them at the door.
    if _CONTROL.search(value):
        raise ValidationError("Bitte keine Zeilenumbrüche oder Steuerzeichen verwenden.")


def _text(required_message: str, max_length: int, *, required: bool = True) -> fields.String:
    optional = {} if required else {"load_default": ""}
    return fields.String(
        required=required,
        validate=[validate.Length(max=max_length, error=f"Bitte höchstens {max_length} Zeichen eingeben."),
                  _no_control_characters],
        error_messages={"required": required_message, "null": required_message or "Bitte einen Text eingeben.",
                        "invalid": "Bitte einen Text eingeben."},
        **optional,
    )


_PHONE = re.compile(r"^[0-9+()/ .\-]{3,40}$")


def _phone(value: str) -> None:
    if value and not _PHONE.match(value):
        raise ValidationError("Bitte geben Sie eine Telefonnummer aus Ziffern an (z. B. 0611 817-0).")


def _round_ids() -> fields.List:
    return fields.List(fields.String(validate=[validate.Length(min=1, max=64), _no_control_characters]),
                       load_default=list,
                       error_messages={"invalid": "Bitte wählen Sie die Runden aus der Liste."})


class NeedsInput(Schema):
    """What a participant may change later through the personal link."""

    function = _text("", 200, required=False)
    phone = fields.String(load_default="", validate=[validate.Length(max=40, error="Bitte höchstens 40 Zeichen eingeben."),
                                                     _phone])
    dietary_needs = _text("", 500, required=False)
    accessibility_needs = _text("", 500, required=False)
    rounds = _round_ids()

    @pre_load
    def _tidy(self, data, **kwargs):
        return _strip(data)


def _strip(data):
    if not isinstance(data, dict):
        return data
    return {key: value.strip() if isinstance(value, str) else value for key, value in data.items()}


class RegistrationInput(Schema):
    first_name = _text("Bitte geben Sie Ihren Vornamen an.", 100)
    last_name = _text("Bitte geben Sie Ihren Nachnamen an.", 100)
    email = fields.Email(required=True, validate=validate.Length(max=254, error="Die E-Mail-Adresse ist zu lang."),
                         error_messages={"required": "Bitte geben Sie Ihre E-Mail-Adresse an.",
                                         "null": "Bitte geben Sie Ihre E-Mail-Adresse an.",
                                         "invalid": "Bitte geben Sie eine gültige E-Mail-Adresse an."})
    organisation = _text("Bitte geben Sie Ihre Behörde oder Organisation an.", 200)
    function = _text("", 200, required=False)
    phone = fields.String(load_default="", validate=[validate.Length(max=40, error="Bitte höchstens 40 Zeichen eingeben."),
                                                     _phone])
    dietary_needs = _text("", 500, required=False)
    accessibility_needs = _text("", 500, required=False)
    rounds = _round_ids()
    photo_consent = fields.Boolean(load_default=False)
    privacy_consent = fields.Boolean(
        required=True,
        validate=validate.Equal(True, error="Bitte stimmen Sie der Datenschutzerklärung zu."),
        error_messages={"required": "Bitte stimmen Sie der Datenschutzerklärung zu.",
                        "null": "Bitte stimmen Sie der Datenschutzerklärung zu.",
                        "invalid": "Bitte stimmen Sie der Datenschutzerklärung zu."})
    language = fields.String(load_default="de", validate=validate.OneOf(["de", "en"], error="Sprache: de oder en."))

    @pre_load
    def _tidy(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        tidy = _strip(data)
        # An empty required text is "missing", so its message says what to fill in.
        for key in ("first_name", "last_name", "email", "organisation"):
            if tidy.get(key) == "":
                tidy.pop(key)
        return tidy


# Wrap marshmallow's remaining English defaults so every message has a German original.
_DEFAULTS = {"Unknown field.": "Unbekanntes Feld.", "Not a valid string.": "Bitte einen Text eingeben.",
             "Not a valid boolean.": "Bitte ja oder nein angeben."}


def germanise(errors):
    if isinstance(errors, dict):
        return {k: germanise(v) for k, v in errors.items()}
    if isinstance(errors, list):
        return [germanise(v) for v in errors]
    return _DEFAULTS.get(errors, errors)
