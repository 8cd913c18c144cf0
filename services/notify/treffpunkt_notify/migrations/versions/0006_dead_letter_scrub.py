"""dead letters of erased registrations removed from the broker: when each tombstone's scrub ran

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # NULL: not yet scrubbed. Tombstones from before this revision are NULL too, so their dead letters are
    # looked for once as well.
    op.add_column("erased_registrations", sa.Column("dead_letters_scrubbed_at", sa.DateTime(timezone=True)))
    op.create_index("ix_erased_registrations_unscrubbed", "erased_registrations", ["dead_letters_scrubbed_at"])


def downgrade():
    op.drop_index("ix_erased_registrations_unscrubbed", "erased_registrations")
    op.drop_column("erased_registrations", "dead_letters_scrubbed_at")
