"""Digest subscriptions (the e-mail digest, issue 19) and saved views (issue 18).

Both tables are new with migrations themselves: no store made by ``create_all`` holds them, so
they are made outright.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_subscriptions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("link_sent_at", sa.DateTime(), nullable=True),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("when_empty", sa.Boolean(), nullable=False),
        sa.Column("digest_mark", sa.DateTime(), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("path", sa.String(length=40), nullable=False),
        sa.Column("query", sa.String(length=4000), nullable=False),
        sa.Column("shared_cdop", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_saved_views_shared_cdop", "saved_views", ["shared_cdop"])
    op.create_index("ix_saved_views_user_id", "saved_views", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_saved_views_user_id", table_name="saved_views")
    op.drop_index("ix_saved_views_shared_cdop", table_name="saved_views")
    op.drop_table("saved_views")
    op.drop_table("digest_subscriptions")
