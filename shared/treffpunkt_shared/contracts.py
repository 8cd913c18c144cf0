"""Every message treffpunkt sends, declared once.

Publisher and consumer both use these declarations: the publisher builds the
envelope with :func:`make_envelope`, the consumer checks it with
:func:`parse_envelope`. A contract is a routing key, a schema version and a
marshmallow schema for the payload.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

ENVELOPE_CONTENT_TYPE = "application/json"


class VenueSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    address = fields.String(load_default="", validate=validate.Length(max=300))
    room = fields.String(load_default="", validate=validate.Length(max=200))


class MeetingSnapshotSchema(Schema):
    """What a participant's email needs to know about a meeting."""

    meeting_id = fields.UUID(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    timezone = fields.String(load_default="Europe/Berlin")
    venue = fields.Nested(VenueSchema, required=True)
    theme = fields.String(load_default="")


MEETING_STATUSES = ("draft", "published", "closed", "archived", "cancelled")
AGENDA_ITEM_KINDS = ("welcome", "talk", "discussion_round", "workshop", "break", "lunch", "closing")
ROUND_KINDS = ("discussion_round", "workshop")


class MeetingDaySchema(Schema):
    date = fields.Date(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)


class RoomSchema(Schema):
    room_id = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    capacity = fields.Integer(load_default=None, allow_none=True)


class MeetingPublishedSchema(MeetingSnapshotSchema):
    """The whole public state of a meeting; every ``meeting.*`` event carries it (event-carried state)."""

    status = fields.String(load_default="published", validate=validate.OneOf(MEETING_STATUSES))
    days = fields.List(fields.Nested(MeetingDaySchema), load_default=list)
    rooms = fields.List(fields.Nested(RoomSchema), load_default=list)
    series = fields.String(load_default="")
    number = fields.Integer(load_default=None, allow_none=True)
    host = fields.String(load_default="")
    description = fields.String(load_default="")
    capacity = fields.Integer(required=True, validate=validate.Range(min=1))
    registration_opens_at = fields.DateTime(load_default=None, allow_none=True)
    registration_closes_at = fields.DateTime(load_default=None, allow_none=True)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    # --- additive (issue 5, notify): who organises the meeting, for notify's daily digest and its warnings
    # about mails that failed for good. Optional; producers that do not send it stay valid.
    organisers = fields.List(fields.Nested(lambda: OrganiserContactSchema()), load_default=list)
    # --- end of the additive block


class OrganiserContactSchema(Schema):
    """An organiser's name and address as notify needs them (issue 5, additive)."""

    name = fields.String(load_default="")
    # A plain string: an account address the Email validator dislikes must not stop the agenda publishing.
    email = fields.String(required=True, validate=validate.Length(min=3, max=320))
    # --- additive: the account, the key of organiser.access_changed, so that notify leaves out an organiser
    # deactivated or removed from the meeting since this event. Optional: older events carry none.
    organiser_id = fields.UUID(load_default=None, allow_none=True)
    # --- end of the additive block


class ParticipantSchema(Schema):
    """Who a registration is for: only what the emails need (phone and needs stay in registration)."""

    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    email = fields.Email(required=True)
    organisation = fields.String(required=True)
    function = fields.String(load_default="")
    language = fields.String(load_default="de", validate=validate.OneOf(["de", "en"]))


# A registration's life: pending (double opt-in not yet done; it already holds its place or its waiting-list
# position) → confirmed | waitlisted → (waitlisted → confirmed by promotion) → cancelled; pending → expired.
REGISTRATION_STATUSES = ("pending", "confirmed", "waitlisted", "cancelled", "expired")
CANCELLED_BY = ("participant", "organiser", "meeting_cancelled")


class RoundChoiceSchema(Schema):
    """A discussion round or workshop a participant chose; ``held`` says whether a place in it is theirs
    (a waitlisted participant's choices are wishes until promoted)."""

    item_id = fields.String(required=True)
    title = fields.String(required=True)
    kind = fields.String(load_default="discussion_round", validate=validate.OneOf(ROUND_KINDS))
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    room = fields.String(load_default=None, allow_none=True)
    held = fields.Boolean(load_default=True)


class RegistrationLinksSchema(Schema):
    """Links for the participant's emails. The personal links carry secret tokens: whoever has the mail
    has the link, which is the point; they are never logged."""

    confirm_url = fields.String(load_default=None, allow_none=True)   # double opt-in, for pending only
    manage_url = fields.String(load_default=None, allow_none=True)    # see, change, cancel
    calendar_url = fields.String(load_default=None, allow_none=True)  # the registration as iCalendar


class RegistrationEventSchema(Schema):
    """Every ``registration.*`` event carries the registration's whole state after the change.

    ``sequence`` counts the changes of one registration (1 for the first event): with the registration id
    and the event type it is the logical key notify sends at most one mail for."""

    registration_id = fields.UUID(required=True)
    sequence = fields.Integer(load_default=1, validate=validate.Range(min=1))
    status = fields.String(required=True, validate=validate.OneOf(REGISTRATION_STATUSES))
    waitlist_position = fields.Integer(load_default=None, allow_none=True)
    meeting = fields.Nested(MeetingSnapshotSchema, required=True)
    participant = fields.Nested(ParticipantSchema, required=True)
    rounds = fields.List(fields.Nested(RoundChoiceSchema), load_default=list)
    links = fields.Nested(RegistrationLinksSchema, load_default=dict)
    # pending: until when the confirmation link works (then the registration expires and frees its place).
    confirm_by = fields.DateTime(load_default=None, allow_none=True)
    # cancelled: who cancelled it.
    cancelled_by = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CANCELLED_BY))
    previous_status = fields.String(load_default=None, allow_none=True,
                                    validate=validate.OneOf(REGISTRATION_STATUSES))

    @validates_schema
    def _position_on_waiting_list(self, data, **kwargs):
        if data.get("status") == "waitlisted" and not data.get("waitlist_position"):
            raise ValidationError("a waiting-list registration needs its position", "waitlist_position")

    @validates_schema
    def _pending_needs_its_link(self, data, **kwargs):
        if data.get("status") == "pending" and not (data.get("links") or {}).get("confirm_url"):
            raise ValidationError("a pending registration needs its confirmation link", "links")


class ParticipantErasedSchema(Schema):
    """A participant's personal data was erased in registration; every other service erases its copy.
    Carries no personal data itself: the registration id is the key every copy is filed under."""

    registration_id = fields.UUID(required=True)
    meeting_id = fields.UUID(required=True)
    erased_at = fields.DateTime(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(["request", "retention"]))


# The roles of organiser accounts (treffpunkt_shared.auth takes them from here: the token carries one too).
ADMINISTRATOR, ORGANISER = "administrator", "organiser"
ORGANISER_ROLES = (ADMINISTRATOR, ORGANISER)
# Why an account's access changed (informative: consumers take the state, whatever the reason).
DEACTIVATED, REACTIVATED, ROLE_CHANGED = "deactivated", "reactivated", "role_changed"
MEETINGS_CHANGED, PASSWORD_CHANGED, SIGNED_OUT = "meetings_changed", "password_changed", "signed_out"
# No change: the access as it is, announced again for services that may not know it (the agenda's
# ``announce-access`` after an upgrade).
ANNOUNCED = "announced"
ACCESS_CHANGES = (DEACTIVATED, REACTIVATED, ROLE_CHANGED, MEETINGS_CHANGED, PASSWORD_CHANGED, SIGNED_OUT, ANNOUNCED)


class OrganiserAccessSchema(Schema):
    """An organiser account's access after a change in the agenda, which owns the accounts: the services that
    only verify sign-in tokens keep it and believe it over the token's copy (treffpunkt_shared.access).

    Event-carried state: every field is the account's current value, not the change. ``revision`` grows with
    each change of one account, so an older event arriving late is recognised and ignored. A token whose
    sign-in time is before ``not_before`` is refused (set by signing out, a password change, deactivation;
    None if never). Carries no name or address: the account id is the key."""

    organiser_id = fields.UUID(required=True)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    changed_at = fields.DateTime(required=True)
    active = fields.Boolean(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ORGANISER_ROLES))
    meeting_ids = fields.List(fields.UUID(), required=True)
    not_before = fields.DateTime(required=True, allow_none=True)
    changes = fields.List(fields.String(validate=validate.OneOf(ACCESS_CHANGES)), required=True,
                          validate=validate.Length(min=1))


class PersonSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    function = fields.String(load_default="")
    authority = fields.String(load_default="")


class DocumentRefSchema(Schema):
    document_id = fields.String(required=True)
    kind = fields.String(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    url = fields.String(required=True)


class AgendaItemSchema(Schema):
    item_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(AGENDA_ITEM_KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    description = fields.String(load_default="")
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    room_id = fields.String(load_default=None, allow_none=True)
    room = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default="scheduled", validate=validate.OneOf(["scheduled", "cancelled"]))
    speakers = fields.List(fields.Nested(PersonSchema), load_default=list)
    moderators = fields.List(fields.Nested(PersonSchema), load_default=list)
    documents = fields.List(fields.Nested(DocumentRefSchema), load_default=list)
    capacity = fields.Integer(load_default=None, allow_none=True)
    guiding_questions = fields.List(fields.String(), load_default=list)


class AgendaSchema(Schema):
    meeting_id = fields.UUID(required=True)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    timezone = fields.String(load_default="Europe/Berlin")
    items = fields.List(fields.Nested(AgendaItemSchema), required=True)


class AgendaPublishedSchema(Schema):
    meeting = fields.Nested(MeetingSnapshotSchema, required=True)
    agenda = fields.Nested(AgendaSchema, required=True)


class TimeSpanSchema(Schema):
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)


class MovedSchema(Schema):
    # "from" is a Python keyword: data_key keeps it readable on the wire.
    before = fields.Nested(TimeSpanSchema, required=True, data_key="from")
    after = fields.Nested(TimeSpanSchema, required=True, data_key="to")


class RoomChangeSchema(Schema):
    before = fields.String(allow_none=True, required=True, data_key="from")
    after = fields.String(allow_none=True, required=True, data_key="to")


class AgendaChangeSchema(Schema):
    """What happened to one item between two revisions of a published agenda."""

    item_id = fields.String(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True)
    change = fields.String(required=True, validate=validate.OneOf(
        ["added", "removed", "cancelled", "reinstated", "updated"]))
    moved = fields.Nested(MovedSchema, load_default=None, allow_none=True)
    room = fields.Nested(RoomChangeSchema, load_default=None, allow_none=True)
    speakers_added = fields.List(fields.Nested(PersonSchema), load_default=list)
    speakers_removed = fields.List(fields.Nested(PersonSchema), load_default=list)
    moderators_added = fields.List(fields.Nested(PersonSchema), load_default=list)
    moderators_removed = fields.List(fields.Nested(PersonSchema), load_default=list)
    # Other changed fields (title, description, capacity, guiding_questions, documents): {"field": {"from", "to"}}.
    fields_changed = fields.Dict(load_default=dict)
    item = fields.Nested(AgendaItemSchema, required=True)


class AgendaChangedSchema(Schema):
    """One edit of a published agenda. ``previous_revision``/``revision`` let notify group a burst of edits
    into one email; ``agenda`` is the whole agenda after the edit."""

    meeting = fields.Nested(MeetingSnapshotSchema, required=True)
    previous_revision = fields.Integer(required=True, validate=validate.Range(min=1))
    revision = fields.Integer(required=True, validate=validate.Range(min=2))
    changed_at = fields.DateTime(required=True)
    times_changed = fields.Boolean(required=True)
    changes = fields.List(fields.Nested(AgendaChangeSchema), required=True, validate=validate.Length(min=1))
    agenda = fields.Nested(AgendaSchema, required=True)


class RoundResultsPublishedSchema(Schema):
    meeting = fields.Nested(MeetingSnapshotSchema, required=True)
    round = fields.Nested(AgendaItemSchema, required=True)
    result = fields.String(required=True, validate=validate.Length(min=1))
    published_at = fields.DateTime(required=True)


class NotificationOutcomeSchema(Schema):
    notification_id = fields.UUID(required=True)
    kind = fields.String(required=True)
    source_message_id = fields.UUID(required=True)
    reason = fields.String(load_default="")


_SCHEMA_INSTANCES: dict[type[Schema], Schema] = {}


def schema_instance(schema_class: type[Schema]) -> Schema:
    """One shared instance per schema class: building a schema deep-copies all its fields, which cost more
    than the validation itself on every message. marshmallow schemas keep no state between load() calls,
    so threads can share them (a race creates a second instance, which is harmless)."""
    schema = _SCHEMA_INSTANCES.get(schema_class)
    if schema is None:
        schema = _SCHEMA_INSTANCES[schema_class] = schema_class()
    return schema


_UNKNOWN_FIELD = ["Unknown field."]


def _without_unknown_fields(value, errors):
    """``value`` without the fields ``errors`` (marshmallow's messages for it) call unknown; ``value`` itself
    when there are none."""
    if not isinstance(errors, dict):
        return value
    if isinstance(value, dict):
        cleaned, changed = {}, False
        for key, item in value.items():
            if errors.get(key) == _UNKNOWN_FIELD:
                changed = True
                continue
            inner = _without_unknown_fields(item, errors.get(key))
            changed = changed or inner is not item
            cleaned[key] = inner
        return cleaned if changed else value
    if isinstance(value, list):
        items = [_without_unknown_fields(item, errors.get(i)) for i, item in enumerate(value)]
        return items if any(a is not b for a, b in zip(items, value)) else value
    return value


@dataclass(frozen=True)
class Contract:
    """One message type: its routing key, its version and its payload schema."""

    type: str
    version: int
    schema: type[Schema]

    def load_payload(self, payload: dict) -> dict:
        """The payload as this version of the contract reads it. Fields it does not know are left out, at any
        depth (a tolerant reader): a producer may add a field before every consumer knows it, so services can be
        upgraded in any order. Everything the contract does know is checked as strictly as ever, and a producer
        cannot send a field its own contract lacks (:meth:`dump_payload`)."""
        schema = schema_instance(self.schema)
        try:
            return schema.load(payload)
        except ValidationError as exc:
            known = _without_unknown_fields(payload, exc.messages)
            if known is payload:
                raise
        return schema.load(known)

    def dump_payload(self, payload: dict) -> dict:
        # Validate on the way out too, so a producer cannot publish what no consumer accepts.
        data = json_ready(payload)
        errors = schema_instance(self.schema).validate(data)
        if errors:
            raise ValidationError(errors)
        return data


MEETING_PUBLISHED = Contract("meeting.published", 1, MeetingPublishedSchema)
MEETING_CLOSED = Contract("meeting.closed", 1, MeetingPublishedSchema)
MEETING_CANCELLED = Contract("meeting.cancelled", 1, MeetingPublishedSchema)
MEETING_ARCHIVED = Contract("meeting.archived", 1, MeetingPublishedSchema)
AGENDA_PUBLISHED = Contract("agenda.published", 1, AgendaPublishedSchema)
AGENDA_CHANGED = Contract("agenda.changed", 1, AgendaChangedSchema)
ROUND_RESULTS_PUBLISHED = Contract("round.results_published", 1, RoundResultsPublishedSchema)
# Registration events (registration service → notify and anyone else): see RegistrationEventSchema.
REGISTRATION_RECEIVED = Contract("registration.received", 1, RegistrationEventSchema)     # opt-in mail
REGISTRATION_CONFIRMED = Contract("registration.confirmed", 1, RegistrationEventSchema)   # place confirmed
REGISTRATION_WAITLISTED = Contract("registration.waitlisted", 1, RegistrationEventSchema) # on the list
REGISTRATION_PROMOTED = Contract("registration.promoted", 1, RegistrationEventSchema)     # list → place
REGISTRATION_UPDATED = Contract("registration.updated", 1, RegistrationEventSchema)       # rounds/needs
REGISTRATION_CANCELLED = Contract("registration.cancelled", 1, RegistrationEventSchema)
REGISTRATION_EXPIRED = Contract("registration.expired", 1, RegistrationEventSchema)       # not confirmed
# A second registration with the same email: the personal link is sent again instead of a second place.
REGISTRATION_LINK_REQUESTED = Contract("registration.link_requested", 1, RegistrationEventSchema)
PARTICIPANT_ERASED = Contract("participant.erased", 1, ParticipantErasedSchema)
# An organiser account was deactivated or reactivated, its role, meetings or password changed, or it signed out.
ORGANISER_ACCESS_CHANGED = Contract("organiser.access_changed", 1, OrganiserAccessSchema)
NOTIFICATION_SENT = Contract("notification.sent", 1, NotificationOutcomeSchema)
NOTIFICATION_FAILED = Contract("notification.failed", 1, NotificationOutcomeSchema)

CONTRACTS: dict[str, Contract] = {
    c.type: c
    for c in (
        MEETING_PUBLISHED,
        MEETING_CLOSED,
        MEETING_CANCELLED,
        MEETING_ARCHIVED,
        AGENDA_PUBLISHED,
        AGENDA_CHANGED,
        ROUND_RESULTS_PUBLISHED,
        REGISTRATION_RECEIVED,
        REGISTRATION_CONFIRMED,
        REGISTRATION_WAITLISTED,
        REGISTRATION_PROMOTED,
        REGISTRATION_UPDATED,
        REGISTRATION_CANCELLED,
        REGISTRATION_EXPIRED,
        REGISTRATION_LINK_REQUESTED,
        PARTICIPANT_ERASED,
        ORGANISER_ACCESS_CHANGED,
        NOTIFICATION_SENT,
        NOTIFICATION_FAILED,
    )
}


# The services' tables keep a correlation id in 64 characters; a longer one from some producer would fail
# every insert (and look like a transient error), so the envelope refuses it up front.
MAX_CORRELATION_ID_LENGTH = 64


class EnvelopeSchema(Schema):
    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Length(min=1, max=100))
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.DateTime(required=True)
    producer = fields.String(required=True)
    correlation_id = fields.String(load_default=None, allow_none=True,
                                   validate=validate.Length(max=MAX_CORRELATION_ID_LENGTH))
    payload = fields.Dict(required=True)


class RejectedMessage(Exception):
    """A message that can never be processed: it goes to the dead-letter queue with this reason."""


@dataclass(frozen=True)
class Envelope:
    id: uuid.UUID
    type: str
    version: int
    occurred_at: datetime
    producer: str
    correlation_id: str | None
    payload: dict


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_ready(value):
    """``value`` with datetimes and UUIDs turned into the strings JSON carries."""
    return json.loads(json.dumps(value, default=_json_default))


def make_envelope(contract: Contract, payload: dict, *, producer: str,
                  correlation_id: str | None = None, message_id: uuid.UUID | None = None) -> dict:
    """Build the JSON-ready envelope for ``payload`` under ``contract``."""
    return {
        "id": str(message_id or uuid.uuid4()),
        "type": contract.type,
        "version": contract.version,
        "occurred_at": datetime.now(timezone.utc).isoformat(),
        "producer": producer,
        "correlation_id": correlation_id,
        "payload": contract.dump_payload(payload),
    }


def encode(envelope: dict) -> bytes:
    return json.dumps(envelope, default=_json_default, ensure_ascii=False).encode("utf-8")


def parse_envelope(body: bytes, content_type: str | None) -> tuple[Envelope, Contract, dict]:
    """Decode and validate a message body; raise :class:`RejectedMessage` saying why it is unusable."""
    if content_type and content_type.split(";")[0].strip().lower() != ENVELOPE_CONTENT_TYPE:
        raise RejectedMessage(f"unsupported content type {content_type!r}")
    try:
        raw = json.loads(body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RejectedMessage(f"body is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise RejectedMessage("envelope is not a JSON object")
    try:
        data = schema_instance(EnvelopeSchema).load(raw, unknown="exclude")
    except ValidationError as exc:
        raise RejectedMessage(f"invalid envelope: {exc.messages}") from None
    contract = CONTRACTS.get(data["type"])
    if contract is None:
        raise RejectedMessage(f"unknown message type {data['type']!r}")
    if data["version"] > contract.version:
        raise RejectedMessage(
            f"unsupported version {data['version']} of {contract.type} (this consumer knows {contract.version})")
    try:
        payload = contract.load_payload(data["payload"])
    except ValidationError as exc:
        raise RejectedMessage(f"invalid payload for {contract.type}: {exc.messages}") from None
    return Envelope(**data), contract, payload
