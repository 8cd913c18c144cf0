"""The registration service's tables: its read models of meetings, rounds and organisers' access, the
registrations with their places, round choices and personal links, the authorities list, rate limits, outbox
and inbox."""
from __future__ import annotations

import sqlalchemy as sa

from treffpunkt_shared.access import organiser_access_table
from treffpunkt_shared.messaging.tables import inbox_table, outbox_table

metadata = sa.MetaData()

# A registration that counts: it holds a place or a waiting-list position. pending = double opt-in not done.
ACTIVE_STATUSES = ("pending", "confirmed", "waitlisted")
_ACTIVE = sa.text("status IN ('pending', 'confirmed', 'waitlisted')")

# What registration knows of a meeting, kept from meeting.* and agenda.* events (never read from the agenda's
# database), plus what the registration service itself owns about it (quota, opt-in time).
meetings = sa.Table(
    "meetings", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("series", sa.String(200), nullable=False, server_default=""),
    sa.Column("number", sa.Integer),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("host", sa.String(300), nullable=False, server_default=""),
    sa.Column("venue_name", sa.String(200), nullable=False),
    sa.Column("venue_address", sa.String(300), nullable=False, server_default=""),
    sa.Column("venue_room", sa.String(200), nullable=False, server_default=""),
    sa.Column("theme", sa.String(300), nullable=False, server_default=""),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("capacity", sa.Integer, nullable=False),
    # Places held by pending (opted-in or not) and confirmed registrations.
    sa.Column("seats_taken", sa.Integer, nullable=False, server_default="0"),
    # The last waiting-list ticket handed out (a counter, never decremented: the list's order).
    sa.Column("waitlist_length", sa.Integer, nullable=False, server_default="0"),
    sa.Column("registration_opens_at", sa.DateTime(timezone=True)),
    sa.Column("registration_closes_at", sa.DateTime(timezone=True)),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="open"),
    # The published agenda as the agenda service sent it (for the preview on the meeting page).
    sa.Column("agenda", sa.JSON),
    sa.Column("agenda_revision", sa.Integer, nullable=False, server_default="0"),
    # Owned here, set by organisers: at most this many places per authority (None: no quota).
    sa.Column("authority_quota", sa.Integer),
    # Owned here: hours a participant has to follow the confirmation link.
    sa.Column("confirmation_hours", sa.Integer, nullable=False, server_default="48"),
    # When retention erased the meeting's personal data.
    sa.Column("personal_data_erased_at", sa.DateTime(timezone=True)),
)

# The discussion rounds and workshops one can choose, from agenda.published / agenda.changed.
rounds = sa.Table(
    "rounds", metadata,
    sa.Column("meeting_id", sa.String(36), sa.ForeignKey("meetings.id"), primary_key=True),
    sa.Column("item_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("room", sa.String(200)),
    sa.Column("capacity", sa.Integer),  # None: as many as the meeting
    sa.Column("places_taken", sa.Integer, nullable=False, server_default="0"),
    # Rounds at overlapping times form one slot; a participant chooses at most one round per slot.
    sa.Column("slot", sa.String(64), nullable=False),
    # scheduled | cancelled | removed (gone from the agenda; kept while registrations refer to it)
    sa.Column("status", sa.String(20), nullable=False, server_default="scheduled"),
)

registrations = sa.Table(
    "registrations", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("meeting_id", sa.String(36), sa.ForeignKey("meetings.id"), nullable=False),
    sa.Column("first_name", sa.String(100), nullable=False),
    sa.Column("last_name", sa.String(100), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("email_key", sa.String(254), nullable=False),
    sa.Column("organisation", sa.String(200), nullable=False),
    sa.Column("authority_key", sa.String(200), nullable=False, server_default=""),
    sa.Column("function", sa.String(200), nullable=False, server_default=""),
    sa.Column("phone", sa.String(40), nullable=False, server_default=""),
    sa.Column("dietary_needs", sa.String(500), nullable=False, server_default=""),
    sa.Column("accessibility_needs", sa.String(500), nullable=False, server_default=""),
    sa.Column("language", sa.String(2), nullable=False, server_default="de"),
    sa.Column("privacy_notice_version", sa.String(40), nullable=False),
    sa.Column("privacy_consent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("photo_consent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("photo_consent_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(20), nullable=False),
    # Holds one of the meeting's places (pending or confirmed); otherwise on the waiting list.
    sa.Column("has_place", sa.Boolean, nullable=False, server_default=sa.false()),
    # Waiting-list ticket: the order of the list (the position is the rank among those still waiting).
    sa.Column("waitlist_ticket", sa.Integer),
    # Counts this registration's changes; every event carries it (notify's logical key).
    sa.Column("sequence", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("confirm_by", sa.DateTime(timezone=True)),
    sa.Column("confirmed_at", sa.DateTime(timezone=True)),
    sa.Column("cancelled_at", sa.DateTime(timezone=True)),
    sa.Column("cancelled_by", sa.String(20)),
    sa.Column("erased_at", sa.DateTime(timezone=True)),
    # The form's one-time key: a form posted twice (a double click) creates one registration.
    sa.Column("submission_key", sa.String(64), unique=True),
    # One active registration per person and meeting, enforced by the database itself.
    sa.Index("uq_active_registration", "meeting_id", "email_key", unique=True,
             postgresql_where=_ACTIVE, sqlite_where=_ACTIVE),
    sa.Index("ix_registrations_waitlist", "meeting_id", "has_place", "waitlist_ticket"),
    sa.Index("ix_registrations_confirm_by", "status", "confirm_by"),
)

# The rounds a registration chose; held = a place in the round is theirs (wishes while on the waiting list).
registration_rounds = sa.Table(
    "registration_rounds", metadata,
    sa.Column("registration_id", sa.String(36), sa.ForeignKey("registrations.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("item_id", sa.String(64), primary_key=True),
    sa.Column("meeting_id", sa.String(36), nullable=False),
    sa.Column("held", sa.Boolean, nullable=False),
    sa.Index("ix_registration_rounds_item", "meeting_id", "item_id"),
)

# Places taken per authority and meeting (only used where the meeting has a quota).
authority_places = sa.Table(
    "authority_places", metadata,
    sa.Column("meeting_id", sa.String(36), sa.ForeignKey("meetings.id"), primary_key=True),
    sa.Column("authority_key", sa.String(200), primary_key=True),
    sa.Column("places_taken", sa.Integer, nullable=False, server_default="0"),
)

# Personal links. Only a SHA-256 digest of each token is kept: a copy of the database opens no registration.
registration_links = sa.Table(
    "registration_links", metadata,
    sa.Column("token_digest", sa.String(64), primary_key=True),
    sa.Column("registration_id", sa.String(36), sa.ForeignKey("registrations.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("purpose", sa.String(10), nullable=False),  # confirm | manage
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

# The list of authorities organisers keep, offered in the form (participants may also type another).
authorities = sa.Table(
    "authorities", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("authority_key", sa.String(200), nullable=False, unique=True),
)

# Attendance on the day (check-in), one row per registration and meeting day.
attendance = sa.Table(
    "attendance", metadata,
    sa.Column("registration_id", sa.String(36), sa.ForeignKey("registrations.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
)

# Request counters shared by all workers (fixed windows; keys are digests, no address in clear).
rate_limits = sa.Table(
    "rate_limits", metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

# Each organiser account's access after its newest organiser.access_changed (active, role, meetings, token
# cut-off), which the sign-in check believes over the token. Declared in treffpunkt_shared.access (notify
# keeps the same read model): its columns are there.
organiser_access = organiser_access_table(metadata)
