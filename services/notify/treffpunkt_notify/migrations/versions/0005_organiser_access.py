"""organisers' access, kept from organiser.access_changed (revoked sign-ins, current roles and meetings)

Revision ID: 0005
Revises: 0004
"""
from alembic import op

from treffpunkt_shared.messaging.migration import create_organiser_access

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    create_organiser_access()


def downgrade():
    op.drop_table("organiser_access")
