"""organisers' access revision and token cut-off, for organiser.access_changed

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
    # batch mode: SQLite (the embedded mode) can only change tables by copying them.
    with op.batch_alter_table("organisers") as t:
        t.add_column(sa.Column("access_revision", sa.Integer, nullable=False, server_default="0"))
        t.add_column(sa.Column("tokens_not_before", sa.DateTime(timezone=True)))


def downgrade():
    with op.batch_alter_table("organisers") as t:
        t.drop_column("tokens_not_before")
        t.drop_column("access_revision")
