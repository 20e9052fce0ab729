"""shared_posts: what "Share in channel" already posted, so a press after a restart posts once

Revision ID: 0006_shared_posts
Revises: 0004_review_cards
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_shared_posts"
down_revision = "0004_review_cards"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shared_posts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("posted", sa.Boolean(), nullable=False),
        sa.Column("shared_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_shared_posts_at", "shared_posts", ["shared_at"])


def downgrade() -> None:
    op.drop_index("ix_shared_posts_at", table_name="shared_posts")
    op.drop_table("shared_posts")
