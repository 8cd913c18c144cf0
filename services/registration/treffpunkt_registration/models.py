"""The registration service's tables: its read model of meetings, and the registrations."""
from __future__ import annotations

import sqlalchemy as sa

from treffpunkt_shared.messaging.tables import inbox_table, outbox_table

metadata = sa.MetaData()

ACTIVE_STATUSES = ("confirmed", "waitlisted")

# What registration knows of a meeting, kept from meeting.* events (never read from the agenda's database).
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
    sa.Column("seats_taken", sa.Integer, nullable=False, server_default="0"),
    sa.Column("waitlist_length", sa.Integer, nullable=False, server_default="0"),
    sa.Column("registration_opens_at", sa.DateTime(timezone=True)),
    sa.Column("registration_closes_at", sa.DateTime(timezone=True)),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="open"),
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
    sa.Column("function", sa.String(200), nullable=False, server_default=""),
    sa.Column("language", sa.String(2), nullable=False, server_default="de"),
    sa.Column("privacy_notice_version", sa.String(40), nullable=False),
    sa.Column("privacy_consent_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("waitlist_position", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # One active registration per person and meeting, enforced by the database itself.
    sa.Index("uq_active_registration", "meeting_id", "email_key", unique=True,
             postgresql_where=sa.text("status IN ('confirmed', 'waitlisted')"),
             sqlite_where=sa.text("status IN ('confirmed', 'waitlisted')")),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
