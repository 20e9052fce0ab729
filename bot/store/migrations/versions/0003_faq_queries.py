"""faq_queries, faq_votes: the questions log behind `re-bot report`

Revision ID: 0003_faq_queries
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_faq_queries"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_queries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=True),
        sa.Column("topic", sa.String(length=80), nullable=True),
        sa.Column("nearest", sa.String(length=300), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_faq_queries_asked", "faq_queries", ["asked_at"])
    op.create_index("ix_faq_queries_token", "faq_queries", ["token_hash"], unique=True)
    op.create_table(
        "faq_votes",
        sa.Column("query_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("voter", sa.String(length=64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["query_id"], ["faq_queries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("query_id", "topic", "voter"),
    )


def downgrade() -> None:
    op.drop_table("faq_votes")
    op.drop_index("ix_faq_queries_token", table_name="faq_queries")
    op.drop_index("ix_faq_queries_asked", table_name="faq_queries")
    op.drop_table("faq_queries")
