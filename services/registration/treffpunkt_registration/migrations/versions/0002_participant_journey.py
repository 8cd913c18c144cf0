"""participant journey: double opt-in, places, rounds, quotas, personal links, authorities, attendance

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ACTIVE = "status IN ('pending', 'confirmed', 'waitlisted')"


def upgrade():
    # batch mode: SQLite (the embedded mode) can only change tables by copying them.
    with op.batch_alter_table("meetings") as t:
        t.add_column(sa.Column("agenda", sa.JSON))
        t.add_column(sa.Column("agenda_revision", sa.Integer, nullable=False, server_default="0"))
        t.add_column(sa.Column("authority_quota", sa.Integer))
        t.add_column(sa.Column("confirmation_hours", sa.Integer, nullable=False, server_default="48"))
        t.add_column(sa.Column("personal_data_erased_at", sa.DateTime(timezone=True)))
    op.drop_index("uq_active_registration", "registrations")
    with op.batch_alter_table("registrations") as t:
        t.add_column(sa.Column("authority_key", sa.String(200), nullable=False, server_default=""))
        t.add_column(sa.Column("phone", sa.String(40), nullable=False, server_default=""))
        t.add_column(sa.Column("dietary_needs", sa.String(500), nullable=False, server_default=""))
        t.add_column(sa.Column("accessibility_needs", sa.String(500), nullable=False, server_default=""))
        t.add_column(sa.Column("photo_consent", sa.Boolean, nullable=False, server_default=sa.false()))
        t.add_column(sa.Column("photo_consent_at", sa.DateTime(timezone=True)))
        t.add_column(sa.Column("has_place", sa.Boolean, nullable=False, server_default=sa.false()))
        t.add_column(sa.Column("waitlist_ticket", sa.Integer))
        t.add_column(sa.Column("sequence", sa.Integer, nullable=False, server_default="1"))
        t.add_column(sa.Column("confirm_by", sa.DateTime(timezone=True)))
        t.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True)))
        t.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True)))
        t.add_column(sa.Column("cancelled_by", sa.String(20)))
        t.add_column(sa.Column("erased_at", sa.DateTime(timezone=True)))
        t.add_column(sa.Column("submission_key", sa.String(64)))
        t.create_unique_constraint("uq_registrations_submission_key", ["submission_key"])
    # Registrations from before double opt-in count as confirmed; their list position becomes their ticket.
    op.execute("UPDATE registrations SET has_place = (status = 'confirmed'), confirmed_at = created_at, "
               "authority_key = lower(trim(organisation)), waitlist_ticket = waitlist_position")
    with op.batch_alter_table("registrations") as t:
        t.drop_column("waitlist_position")
    op.create_index("uq_active_registration", "registrations", ["meeting_id", "email_key"], unique=True,
                    postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))
    op.create_index("ix_registrations_waitlist", "registrations", ["meeting_id", "has_place", "waitlist_ticket"])
    op.create_index("ix_registrations_confirm_by", "registrations", ["status", "confirm_by"])

    op.create_table(
        "rounds",
        sa.Column("meeting_id", sa.String(36), sa.ForeignKey("meetings.id"), primary_key=True),
        sa.Column("item_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("room", sa.String(200)),
        sa.Column("capacity", sa.Integer),
        sa.Column("places_taken", sa.Integer, nullable=False, server_default="0"),
        sa.Column("slot", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="scheduled"),
    )
    op.create_table(
        "registration_rounds",
        sa.Column("registration_id", sa.String(36), sa.ForeignKey("registrations.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("item_id", sa.String(64), primary_key=True),
        sa.Column("meeting_id", sa.String(36), nullable=False),
        sa.Column("held", sa.Boolean, nullable=False),
    )
    op.create_index("ix_registration_rounds_item", "registration_rounds", ["meeting_id", "item_id"])
    op.create_table(
        "authority_places",
        sa.Column("meeting_id", sa.String(36), sa.ForeignKey("meetings.id"), primary_key=True),
        sa.Column("authority_key", sa.String(200), primary_key=True),
        sa.Column("places_taken", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "registration_links",
        sa.Column("token_digest", sa.String(64), primary_key=True),
        sa.Column("registration_id", sa.String(36), sa.ForeignKey("registrations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("purpose", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_registration_links_registration_id", "registration_links", ["registration_id"])
    op.create_table(
        "authorities",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("authority_key", sa.String(200), nullable=False, unique=True),
    )
    op.create_table(
        "attendance",
        sa.Column("registration_id", sa.String(36), sa.ForeignKey("registrations.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
    )


def downgrade():
    for table in ("rate_limits", "attendance", "authorities", "registration_links", "authority_places",
                  "registration_rounds", "rounds"):
        op.drop_table(table)
    op.drop_index("ix_registrations_confirm_by", "registrations")
    op.drop_index("ix_registrations_waitlist", "registrations")
    op.drop_index("uq_active_registration", "registrations")
    with op.batch_alter_table("registrations") as t:
        t.add_column(sa.Column("waitlist_position", sa.Integer))
        t.drop_constraint("uq_registrations_submission_key", type_="unique")
        for name in ("authority_key", "phone", "dietary_needs", "accessibility_needs", "photo_consent",
                     "photo_consent_at", "has_place", "waitlist_ticket", "sequence", "confirm_by",
                     "confirmed_at", "cancelled_at", "cancelled_by", "erased_at", "submission_key"):
            t.drop_column(name)
    op.create_index("uq_active_registration", "registrations", ["meeting_id", "email_key"], unique=True,
                    postgresql_where=sa.text("status IN ('confirmed', 'waitlisted')"),
                    sqlite_where=sa.text("status IN ('confirmed', 'waitlisted')"))
    with op.batch_alter_table("meetings") as t:
        for name in ("agenda", "agenda_revision", "authority_quota", "confirmation_hours",
                     "personal_data_erased_at"):
            t.drop_column(name)
