"""fan-out jobs: agenda.published and round.results_published expanded into mails by the scheduler, in chunks

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "fanouts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("meeting_id", sa.String(36), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("correlation_id", sa.String(64)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("expanded_through", sa.String(36)),
        sa.Column("recipient_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_fanouts_status", "fanouts", ["status", "created_at"])


def downgrade():
    op.drop_index("ix_fanouts_status", "fanouts")
    op.drop_table("fanouts")
