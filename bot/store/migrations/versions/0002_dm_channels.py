"""dm_channels: members' Discord DM channel ids, so a DM channel is opened once per member

Revision ID: 0002_dm_channels
Revises: 0005_installations
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_dm_channels"
down_revision = "0005_installations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dm_channels",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("dm_channels")
