"""The agenda service's tables."""
from __future__ import annotations

import sqlalchemy as sa

from treffpunkt_shared.messaging.tables import inbox_table, outbox_table

metadata = sa.MetaData()

MEETING_STATUSES = ("draft", "published", "closed", "archived", "cancelled")

meetings = sa.Table(
    "meetings", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("series", sa.String(200), nullable=False, server_default=""),
    sa.Column("number", sa.Integer),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="Europe/Berlin"),
    sa.Column("host", sa.String(300), nullable=False, server_default=""),
    sa.Column("venue_name", sa.String(200), nullable=False),
    sa.Column("venue_address", sa.String(300), nullable=False, server_default=""),
    sa.Column("venue_room", sa.String(200), nullable=False, server_default=""),
    sa.Column("theme", sa.String(300), nullable=False, server_default=""),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("registration_opens_at", sa.DateTime(timezone=True)),
    sa.Column("registration_closes_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(20), nullable=False, server_default="draft"),
    sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    # The agenda is published separately from the meeting; the snapshot of its last published state is what
    # the next change is compared with, so every agenda.changed carries an exact diff.
    sa.Column("agenda_status", sa.String(20), nullable=False, server_default="draft"),
    sa.Column("agenda_revision", sa.Integer, nullable=False, server_default="0"),
    sa.Column("published_agenda", sa.JSON),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

organisers = sa.Table(
    "organisers", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(20), nullable=False, server_default="organiser"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Counts the changes of the account's access, each announced as organiser.access_changed with it: the other
    # services keep the newest by this number, whatever order the events arrive in.
    sa.Column("access_revision", sa.Integer, nullable=False, server_default="0"),
    # Tokens signed in before this moment are refused (sign-out, password change, deactivation); None: none.
    sa.Column("tokens_not_before", sa.DateTime(timezone=True)),
)

meeting_organisers = sa.Table(
    "meeting_organisers", metadata,
    sa.Column("meeting_id", sa.String(36), sa.ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("organiser_id", sa.String(36), sa.ForeignKey("organisers.id", ondelete="CASCADE"), primary_key=True),
)

sign_in_attempts = sa.Table(
    "sign_in_attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(400), nullable=False),
    sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
)

# --- the programme --------------------------------------------------------------------------------------

meeting_days = sa.Table(
    "meeting_days", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("meeting_id", sa.String(36), sa.ForeignKey("meetings.id", ondelete="CASCADE"), nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("meeting_id", "date", name="uq_meeting_days_date"),
)

rooms = sa.Table(
    "rooms", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("meeting_id", sa.String(36), sa.ForeignKey("meetings.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("capacity", sa.Integer),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("meeting_id", "name", name="uq_rooms_name"),
)

agenda_items = sa.Table(
    "agenda_items", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("meeting_id", sa.String(36), sa.ForeignKey("meetings.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("room_id", sa.String(36), sa.ForeignKey("rooms.id", ondelete="RESTRICT")),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="scheduled"),
    sa.Column("capacity", sa.Integer),
    sa.Column("guiding_questions", sa.JSON, nullable=False),
    sa.Column("result", sa.Text, nullable=False, server_default=""),
    sa.Column("result_published_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

item_people = sa.Table(
    "item_people", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.String(36), sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("role", sa.String(20), nullable=False),  # speaker | moderator
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("function", sa.String(200), nullable=False, server_default=""),
    sa.Column("authority", sa.String(300), nullable=False, server_default=""),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
)

documents = sa.Table(
    "documents", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("item_id", sa.String(36), sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("kind", sa.String(20), nullable=False),  # slides | minutes | other
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
)
