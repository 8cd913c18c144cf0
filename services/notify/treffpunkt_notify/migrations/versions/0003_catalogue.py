"""the email catalogue: read models of recipients and meetings, grouped agenda changes, broadcasts, erasure

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("mails", sa.Column("registration_id", sa.String(36)))
    op.add_column("mails", sa.Column("subject", sa.String(500)))
    op.create_index("ix_mails_registration", "mails", ["registration_id"])
    op.create_table(
        "recipients",
        sa.Column("registration_id", sa.String(36), primary_key=True),
        sa.Column("meeting_id", sa.String(36), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("waitlist_position", sa.Integer),
        sa.Column("participant", sa.JSON, nullable=False),
        sa.Column("organisation", sa.String(300), nullable=False),
        sa.Column("rounds", sa.JSON, nullable=False),
        sa.Column("links", sa.JSON, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_recipients_meeting", "recipients", ["meeting_id", "status"])
    op.create_table(
        "meetings",
        sa.Column("meeting_id", sa.String(36), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.String(20)),
        sa.Column("state", sa.JSON),
        sa.Column("starts_at", sa.DateTime(timezone=True)),
        sa.Column("organisers", sa.JSON),
        sa.Column("agenda_revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("agenda", sa.JSON),
        sa.Column("agenda_published_at", sa.DateTime(timezone=True)),
        sa.Column("last_digest_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "agenda_changes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("meeting_id", sa.String(36), nullable=False),
        sa.Column("previous_revision", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("times_changed", sa.Boolean, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_message_id", sa.String(36), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("meeting_id", "revision", name="uq_agenda_changes_revision"),
    )
    op.create_index("ix_agenda_changes_open", "agenda_changes", ["mailed_at", "meeting_id"])
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("meeting_id", sa.String(36), nullable=False),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("audience_value", sa.String(300)),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True)),
        sa.Column("expanded_at", sa.DateTime(timezone=True)),
        sa.Column("expanded_through", sa.String(36)),
        sa.Column("recipient_count", sa.Integer),
    )
    op.create_table(
        "erased_registrations",
        sa.Column("registration_id", sa.String(36), primary_key=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    for table in ("erased_registrations", "broadcasts", "agenda_changes", "meetings", "recipients"):
        op.drop_table(table)
    op.drop_index("ix_mails_registration", "mails")
    op.drop_column("mails", "subject")
    op.drop_column("mails", "registration_id")
