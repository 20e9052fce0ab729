"""Review schedules made before they took their member's reminder's workspace get it now

Revision ID: 0007_review_workspace
Revises: 0006_shared_posts
Create Date: 2026-12-03

A review DM goes out with its workspace's token, holds with it on a token fault and pauses with it on uninstall, all
by the review schedule's own `workspace`, which `refresh_review` copies from the member's reminder. Rows written
before it did hold none: this fills them from the reminder. Only empty ones are touched, so running it again changes
nothing.
"""

from alembic import op

revision = "0007_review_workspace"
down_revision = "0006_shared_posts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE schedules SET workspace = (
            SELECT reminder.workspace FROM schedules AS reminder
            WHERE reminder.kind = 'reminder' AND reminder.platform = schedules.platform
              AND reminder.target = schedules.target
        )
        WHERE kind = 'review' AND workspace IS NULL
        """
    )


def downgrade() -> None:
    pass  # the workspace filled in is the one the review schedule would have been given: nothing to undo
