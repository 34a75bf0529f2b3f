"""The operational store as it stood before migrations: users, grants, sessions, visit marks, the
audit log, password changes due, the mapping's history and the rate-limit counters.

A store made before migrations (by ``create_all`` at start-up) has some or all of these tables
and no revision: only the missing ones are made, and the store is then at this revision.
"""

import sqlalchemy as sa
from alembic import op

from operational.migrations.steps import create_table_if_missing as create

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    create(
        "user_cdops",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("cdop_code", sa.String(10), primary_key=True),
    )
    if create(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime()),
        sa.Column("ended_reason", sa.String(20)),
    ):
        op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    create(
        "visit_marks",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seen_up_to", sa.DateTime(), nullable=False),
        sa.Column("marked_at", sa.DateTime(), nullable=False),
    )
    if create(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(64)),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("remote_addr", sa.String(64)),
    ):
        op.create_index("ix_audit_log_at", "audit_log", ["at"])
        op.create_index("ix_audit_log_event", "audit_log", ["event"])
        op.create_index("ix_audit_log_remote_addr", "audit_log", ["remote_addr"])
        op.create_index("audit_user_time", "audit_log", ["username", "at"])
    create(
        "password_changes_due",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("since", sa.DateTime(), nullable=False),
    )
    create(
        "mapping_revisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("effective_from", sa.Date()),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    if create(
        "mapping_cdops",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("cdop_code", sa.String(10), nullable=False),
        sa.Column("cdop_name", sa.String(200), nullable=False),
        sa.Column("region_code", sa.String(10)),
        sa.Column("la_codes", sa.String(4000), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date()),
        sa.Column("successor_code", sa.String(10)),
        sa.Column("basis", sa.String(20)),
        sa.Column("added_by", sa.Integer(), sa.ForeignKey("mapping_revisions.id"), nullable=False),
        sa.Column("retired_by", sa.Integer(), sa.ForeignKey("mapping_revisions.id")),
    ):
        op.create_index("ix_mapping_cdops_cdop_code", "mapping_cdops", ["cdop_code"])
        op.create_index("ix_mapping_cdops_retired_by", "mapping_cdops", ["retired_by"])
    if create(
        "mapping_footprint",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("trust_code", sa.String(10), nullable=False),
        sa.Column("cdop_code", sa.String(10), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date()),
        sa.Column("added_by", sa.Integer(), sa.ForeignKey("mapping_revisions.id"), nullable=False),
        sa.Column("retired_by", sa.Integer(), sa.ForeignKey("mapping_revisions.id")),
    ):
        op.create_index("ix_mapping_footprint_trust_code", "mapping_footprint", ["trust_code"])
        op.create_index("ix_mapping_footprint_cdop_code", "mapping_footprint", ["cdop_code"])
        op.create_index("ix_mapping_footprint_retired_by", "mapping_footprint", ["retired_by"])
    create(
        "rate_limits",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    for name in (
        "rate_limits",
        "mapping_footprint",
        "mapping_cdops",
        "mapping_revisions",
        "password_changes_due",
        "audit_log",
        "visit_marks",
        "sessions",
        "user_cdops",
        "users",
    ):
        op.drop_table(name)
