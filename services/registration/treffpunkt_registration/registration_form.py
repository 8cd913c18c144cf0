"""Between the HTML forms and the schemas: what the form posted, as the schema expects it, and back."""
from __future__ import annotations

from marshmallow import ValidationError

from treffpunkt_shared.contracts import schema_instance

from .catalog import catalog
from .schemas import NeedsInput, RegistrationInput, germanise

PERSON_FIELDS = ("first_name", "last_name", "email", "organisation", "function", "phone", "dietary_needs",
                 "accessibility_needs")
NEEDS_FIELDS = ("function", "phone", "dietary_needs", "accessibility_needs")
ROUND_FIELD_PREFIX = "round_"


def round_choices(form, slots: list[str]) -> tuple[dict[str, str], list[str]]:
    """({slot: item_id}, [item_id]) from the form's one radio group per slot ("" = none)."""
    chosen = {slot: form.get(ROUND_FIELD_PREFIX + slot, "") for slot in slots}
    return chosen, [item for item in chosen.values() if item]


def errors_for_form(messages: dict, language: str) -> dict:
    return catalog.translate_errors(germanise(messages), language)


def load_registration(form, slots: list[str], language: str) -> tuple[dict, dict, dict]:
    """(data, values to show again, errors) from the registration form."""
    values = {key: form.get(key, "") for key in PERSON_FIELDS}
    chosen, item_ids = round_choices(form, slots)
    values["rounds"] = chosen
    values["privacy_consent"] = form.get("privacy_consent") == "yes"
    values["photo_consent"] = form.get("photo_consent") == "yes"
    submitted = {**{k: values[k] for k in PERSON_FIELDS}, "rounds": item_ids,
                 "privacy_consent": values["privacy_consent"], "photo_consent": values["photo_consent"],
                 "language": language}
    try:
        return schema_instance(RegistrationInput).load(submitted), values, {}
    except ValidationError as exc:
        return {}, values, errors_for_form(exc.messages, language)


def load_needs(form, slots: list[str], language: str) -> tuple[dict, dict, dict]:
    values = {key: form.get(key, "") for key in NEEDS_FIELDS}
    chosen, item_ids = round_choices(form, slots)
    values["rounds"] = chosen
    try:
        return schema_instance(NeedsInput).load({**values, "rounds": item_ids}), values, {}
    except ValidationError as exc:
        return {}, values, errors_for_form(exc.messages, language)


def round_error_field(slot_of_item: dict[str, str], item_id: str | None) -> str:
    """The form field a round error belongs to (the slot's radio group), or the rounds fieldset."""
    slot = slot_of_item.get(item_id or "")
    return ROUND_FIELD_PREFIX + slot if slot else "rounds"
