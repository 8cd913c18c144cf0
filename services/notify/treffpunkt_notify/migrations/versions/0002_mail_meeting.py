"""the meeting a mail belongs to, so organisers see the delivery log of their meetings only

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("mails", sa.Column("meeting_id", sa.String(36)))
    op.create_index("ix_mails_meeting", "mails", ["meeting_id", "created_at"])


def downgrade():
    op.drop_index("ix_mails_meeting", "mails")
    op.drop_column("mails", "meeting_id")
