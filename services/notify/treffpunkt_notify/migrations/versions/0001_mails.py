"""mails, outbox and inbox

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

from treffpunkt_shared.messaging.migration import create_inbox, create_outbox

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mails",
        sa.Column("id", sa.String(36), primary_key=True),
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
    )
    op.create_index("ix_mails_due", "mails", ["status", "next_attempt_at"])
    create_outbox()
    create_inbox()


def downgrade():
    op.drop_table("processed_messages")
    op.drop_table("outbox")
    op.drop_index("ix_mails_due", "mails")
    op.drop_table("mails")
