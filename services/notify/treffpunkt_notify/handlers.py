"""What the notify worker does with each event: keep its read models and queue the right emails.

One handler per event type (``HANDLERS``), each a plain function of (envelope, payload, deps) that runs in
the inbox transaction (:func:`process_once`), so the read-model change, the queued mails and the "processed"
record commit together or not at all. Mails are rendered before anything is written where the event alone
has the data; a mail whose template data is missing raises :class:`RejectedMessage` and the event is
dead-lettered with the reason, nothing half-rendered is queued.

Events that go to many participants (``agenda.published``, ``round.results_published``) queue no mail here:
they record a fan-out job (:func:`record_fanout`), which the scheduler expands into one mail per recipient in
chunks, each its own transaction, so the consumer's transaction stays short however large the meeting.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import sqlalchemy as sa

from treffpunkt_shared.access import apply_access_change
from treffpunkt_shared.contracts import AgendaChangeSchema, Contract, Envelope, encode, json_ready, schema_instance
from treffpunkt_shared.logs import log_event
from treffpunkt_shared.messaging.consumer import process_once
from treffpunkt_shared.timeutil import utcnow

from . import catalogue
from .catalogue import Prepared
from .erasure import erase_registration
from .mail_queue import queue_mail
from .models import agenda_changes, fanouts, inbox, organiser_access
from .read_models import apply_agenda, apply_meeting, apply_registration, insert_ignore, is_erased, meeting_revisions

log = logging.getLogger("treffpunkt.notify.handlers")


@dataclass(frozen=True)
class Source:
    """Where a queued mail came from: kept with the mail, and the body of its dead letter if it fails."""

    message_id: str
    correlation_id: str | None
    body: bytes


def envelope_body(envelope: Envelope, payload: dict) -> bytes:
    return encode({"id": str(envelope.id), "type": envelope.type, "version": envelope.version,
                   "occurred_at": envelope.occurred_at.isoformat(), "producer": envelope.producer,
                   "correlation_id": envelope.correlation_id, "payload": json_ready(payload)})


def compact_body(envelope_id: str, type_: str, prepared: Prepared, **extra) -> bytes:
    """For mails fanned out from one event (agenda, results, broadcasts): what the mail was, not the whole
    event once per recipient."""
    return json.dumps({"source_message_id": envelope_id, "source_type": type_, "logical_key": prepared.logical_key,
                       "kind": prepared.kind, "meeting_id": prepared.meeting_id,
                       "registration_id": prepared.registration_id, **extra}).encode()


def queue_prepared(tx: sa.Connection, prepared: Prepared, source: Source) -> bool:
    return queue_mail(tx, logical_key=prepared.logical_key, kind=prepared.kind, source_message_id=source.message_id,
                      source_body=source.body, correlation_id=source.correlation_id, recipient=prepared.recipient,
                      message=prepared.message, meeting_id=prepared.meeting_id,
                      registration_id=prepared.registration_id, subject=prepared.subject)


# ------------------------------------------------------------------------------------------ registration
def on_registration(engine, settings, envelope: Envelope, payload: dict) -> None:
    kind = catalogue.REGISTRATION_MAILS.get(envelope.type)  # None: registration.expired (no mail)

    def work(tx):
        if is_erased(tx, str(payload["registration_id"])):
            return
        current = apply_registration(tx, payload, envelope.occurred_at)
        if kind is None:
            return
        if not current and kind in catalogue.STATE_MAILS:
            log_event(log, "stale_registration_event_not_mailed", message_id=str(envelope.id), kind=kind)
            return
        # Rendered in the transaction, on its connection (one pool checkout per event, not two); missing
        # template data raises RejectedMessage here and rolls everything back, so the event is dead-lettered.
        meeting_revision, agenda_revision, items = meeting_revisions(tx, str(payload["meeting"]["meeting_id"]))
        prepared = catalogue.registration_mail(settings, kind, payload, envelope_id=str(envelope.id),
                                               meeting_revision=meeting_revision, agenda_revision=agenda_revision,
                                               agenda_items=items)
        queue_prepared(tx, prepared, Source(str(envelope.id), envelope.correlation_id,
                                            envelope_body(envelope, payload)))

    process_once(engine, inbox, envelope, work)


def on_participant_erased(engine, settings, envelope: Envelope, payload: dict) -> None:
    process_once(engine, inbox, envelope, lambda tx: erase_registration(
        tx, str(payload["registration_id"]), str(payload["meeting_id"])))


# ------------------------------------------------------------------------------------------ meetings, agenda
def on_meeting(engine, settings, envelope: Envelope, payload: dict) -> None:
    process_once(engine, inbox, envelope, lambda tx: apply_meeting(tx, payload))


# Fan-out kinds (fanouts.kind) and the event each comes from (the mails' source type).
FANOUT_EVENT_TYPES = {"agenda_published": "agenda.published", "round_results": "round.results_published"}


def record_fanout(tx: sa.Connection, kind: str, envelope: Envelope, payload: dict) -> bool:
    """The job of mailing one event to many participants, for the scheduler; False if the event's job is
    there already (keyed by the envelope id). Only the event's payload is kept: it has no participant's
    data, the recipients are read when the job is expanded."""
    return insert_ignore(tx, fanouts, {
        "id": str(envelope.id), "kind": kind, "meeting_id": str(payload["meeting"]["meeting_id"]),
        "payload": json_ready(payload), "correlation_id": envelope.correlation_id, "status": "queued",
        "expanded_through": None, "recipient_count": 0, "created_at": utcnow(), "done_at": None}, ["id"])


def on_agenda_published(engine, settings, envelope: Envelope, payload: dict) -> None:
    """The agenda's read model now; the mails to the confirmed participants later, by the scheduler."""

    def work(tx):
        apply_agenda(tx, payload["meeting"], payload["agenda"], published=True)
        record_fanout(tx, "agenda_published", envelope, payload)

    process_once(engine, inbox, envelope, work)


def on_agenda_changed(engine, settings, envelope: Envelope, payload: dict) -> None:
    """Kept for the scheduler, which groups the edits of a short window into one mail per participant."""
    meeting = payload["meeting"]

    def work(tx):
        apply_agenda(tx, meeting, payload["agenda"])
        insert_ignore(tx, agenda_changes, {
            "id": str(envelope.id), "meeting_id": str(meeting["meeting_id"]),
            "previous_revision": payload["previous_revision"], "revision": payload["revision"],
            "times_changed": payload["times_changed"],
            # In the wire shape ("from"/"to"), as the templates read it.
            "changes": json_ready(schema_instance(AgendaChangeSchema).dump(payload["changes"], many=True)),
            "changed_at": payload["changed_at"], "received_at": utcnow(), "source_message_id": str(envelope.id),
            "mailed_at": None}, ["meeting_id", "revision"])

    process_once(engine, inbox, envelope, work)


def on_round_results(engine, settings, envelope: Envelope, payload: dict) -> None:
    """The mails to the round's participants later, by the scheduler."""
    process_once(engine, inbox, envelope, lambda tx: record_fanout(tx, "round_results", envelope, payload))


# ------------------------------------------------------------------------------------------ organisers
def on_organiser_access(engine, settings, envelope: Envelope, payload: dict) -> None:
    """Read by the organisers' sign-in check (app.py): a revoked account is refused from the next request."""
    process_once(engine, inbox, envelope, lambda tx: apply_access_change(tx, organiser_access, payload))


HANDLERS = {
    "registration.received": on_registration,
    "registration.confirmed": on_registration,
    "registration.waitlisted": on_registration,
    "registration.promoted": on_registration,
    "registration.updated": on_registration,
    "registration.cancelled": on_registration,
    "registration.expired": on_registration,
    "registration.link_requested": on_registration,
    "participant.erased": on_participant_erased,
    "meeting.published": on_meeting,
    "meeting.closed": on_meeting,
    "meeting.cancelled": on_meeting,
    "meeting.archived": on_meeting,
    "agenda.published": on_agenda_published,
    "agenda.changed": on_agenda_changed,
    "round.results_published": on_round_results,
    "organiser.access_changed": on_organiser_access,
}


def make_handler(engine: sa.Engine, settings):
    def handle(envelope: Envelope, contract: Contract, payload: dict) -> None:
        handler = HANDLERS.get(contract.type)
        if handler is None:
            return  # an event notify has no use for: acknowledged, nothing to do
        handler(engine, settings, envelope, payload)

    return handle
