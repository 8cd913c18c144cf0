"""The notify service's tables: the outgoing mails (its delivery log), outbox and inbox."""
from __future__ import annotations

import sqlalchemy as sa

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
    sa.Index("ix_mails_due", "status", "next_attempt_at"),
    sa.Index("ix_mails_meeting", "meeting_id", "created_at"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
