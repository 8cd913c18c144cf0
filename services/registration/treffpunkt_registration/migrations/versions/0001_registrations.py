"""meetings read model, registrations, outbox and inbox

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
        "meetings",
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
    op.create_table(
        "registrations",
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
    )
    op.create_index("uq_active_registration", "registrations", ["meeting_id", "email_key"], unique=True,
                    postgresql_where=sa.text("status IN ('confirmed', 'waitlisted')"),
                    sqlite_where=sa.text("status IN ('confirmed', 'waitlisted')"))
    create_outbox()
    create_inbox()


def downgrade():
    op.drop_table("processed_messages")
    op.drop_table("outbox")
    op.drop_index("uq_active_registration", "registrations")
    op.drop_table("registrations")
    op.drop_table("meetings")
