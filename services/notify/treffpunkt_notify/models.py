"""The notify service's tables: the outgoing mails (its delivery log), read models, schedules, outbox, inbox.

Read models (filled from events, never from another service's database):

* ``recipients``: one row per registration, its latest state (status, participant, chosen rounds, links),
  newer ``sequence`` wins. Whom agenda mails, reminders, results and broadcasts go to.
* ``meetings``: the latest state of each meeting (``meeting.*``, newer revision wins), its organisers (for
  digests and failure warnings) and its latest agenda (``agenda.*``, newer revision wins).
* ``agenda_changes``: edits of published agendas waiting to be grouped into one mail per participant.
* ``broadcasts``: organisers' messages (draft → queued → sent), expanded into mails by the scheduler.
* ``fanouts``: events that go to many participants (``agenda.published``, ``round.results_published``),
  recorded by the consumer and expanded into mails by the scheduler in chunks.
* ``erased_registrations``: registrations erased on request (ids only), so a late event cannot bring back
  a copy of the participant.
* ``organiser_access``: each organiser account's access after its newest ``organiser.access_changed``
  (active, role, meetings, token cut-off), which the sign-in check believes over the token.
"""
from __future__ import annotations

import sqlalchemy as sa

from treffpunkt_shared.access import organiser_access_table
from treffpunkt_shared.messaging.tables import inbox_table, outbox_table

metadata = sa.MetaData()

MAIL_STATUSES = ("pending", "sent", "failed")

mails = sa.Table(
    "mails", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    # One mail per logical notification (kind + subject of it): a second event for it sends nothing.
    sa.Column("logical_key", sa.String(200), nullable=False, unique=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("source_message_id", sa.String(36), nullable=False),
    sa.Column("source_body", sa.LargeBinary, nullable=False),
    sa.Column("correlation_id", sa.String(64)),
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("message", sa.LargeBinary, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_error", sa.String(1000)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    # Which meeting's delivery log the mail is in (migration 0002; older rows have none).
    sa.Column("meeting_id", sa.String(36)),
    # Whose mail it is (migration 0003): the per-participant delivery log, and erasure.
    sa.Column("registration_id", sa.String(36)),
    sa.Column("subject", sa.String(500)),
    sa.Index("ix_mails_due", "status", "next_attempt_at"),
    sa.Index("ix_mails_meeting", "meeting_id", "created_at"),
    sa.Index("ix_mails_registration", "registration_id"),
)

recipients = sa.Table(
    "recipients", metadata,
    sa.Column("registration_id", sa.String(36), primary_key=True),
    sa.Column("meeting_id", sa.String(36), nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("waitlist_position", sa.Integer),
    sa.Column("participant", sa.JSON, nullable=False),  # first_name, last_name, email, organisation, …
    sa.Column("organisation", sa.String(300), nullable=False),  # for "all participants of an authority"
    sa.Column("rounds", sa.JSON, nullable=False),  # the chosen rounds as in the event
    sa.Column("links", sa.JSON, nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("confirmed_at", sa.DateTime(timezone=True)),
    sa.Column("cancelled_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_recipients_meeting", "meeting_id", "status"),
)

meetings = sa.Table(
    "meetings", metadata,
    sa.Column("meeting_id", sa.String(36), primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(20)),
    sa.Column("state", sa.JSON),  # the meeting snapshot (title, dates, venue, …) of the newest event
    sa.Column("starts_at", sa.DateTime(timezone=True)),
    sa.Column("organisers", sa.JSON),  # [{name, email}] from meeting.* (optional field of the contract)
    sa.Column("agenda_revision", sa.Integer, nullable=False, server_default="0"),
    sa.Column("agenda", sa.JSON),  # the newest published agenda (items), from agenda.published/changed
    sa.Column("agenda_published_at", sa.DateTime(timezone=True)),
    sa.Column("last_digest_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

agenda_changes = sa.Table(
    "agenda_changes", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("meeting_id", sa.String(36), nullable=False),
    sa.Column("previous_revision", sa.Integer, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("times_changed", sa.Boolean, nullable=False),
    sa.Column("changes", sa.JSON, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source_message_id", sa.String(36), nullable=False),
    # Set when the group this edit belongs to was turned into mails.
    sa.Column("mailed_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("meeting_id", "revision", name="uq_agenda_changes_revision"),
    sa.Index("ix_agenda_changes_open", "mailed_at", "meeting_id"),
)

broadcasts = sa.Table(
    "broadcasts", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("meeting_id", sa.String(36), nullable=False),
    sa.Column("audience", sa.String(20), nullable=False),  # meeting | round | authority | waitlist
    sa.Column("audience_value", sa.String(300)),  # the round's item id, or the authority's name
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(254), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # draft | queued | sent
    sa.Column("queued_at", sa.DateTime(timezone=True)),
    sa.Column("expanded_at", sa.DateTime(timezone=True)),
    # The last registration id expanded into mails: the expansion goes in chunks, each its own transaction.
    sa.Column("expanded_through", sa.String(36)),
    sa.Column("recipient_count", sa.Integer),
)

FANOUT_KINDS = ("agenda_published", "round_results")

fanouts = sa.Table(
    "fanouts", metadata,
    # The event's envelope id: a redelivered event is the same job.
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(30), nullable=False),  # agenda_published | round_results
    sa.Column("meeting_id", sa.String(36), nullable=False),
    # The event's payload as the mail functions take it (JSON-ready): meeting snapshot, agenda or round and
    # result. No participant's data: the recipients are read from ``recipients`` when it is expanded.
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("correlation_id", sa.String(64)),
    sa.Column("status", sa.String(20), nullable=False),  # queued | done
    # The last registration id expanded into mails (recipients in registration id order), chunk by chunk.
    sa.Column("expanded_through", sa.String(36)),
    sa.Column("recipient_count", sa.Integer, nullable=False, server_default="0"),  # mails queued by the job
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True)),
    sa.Index("ix_fanouts_status", "status", "created_at"),
)

erased_registrations = sa.Table(
    "erased_registrations", metadata,
    sa.Column("registration_id", sa.String(36), primary_key=True),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    # When this registration's dead letters were removed from the broker's <ns>.notify.dead (NULL: not yet).
    sa.Column("dead_letters_scrubbed_at", sa.DateTime(timezone=True)),
    sa.Index("ix_erased_registrations_unscrubbed", "dead_letters_scrubbed_at"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
# Declared in treffpunkt_shared.access (registration keeps the same read model): its columns are there.
organiser_access = organiser_access_table(metadata)
