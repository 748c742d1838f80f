"""Indexes for HQ's list pages at chain scale: items waiting for approval, the newest deliveries first

Revision ID: 9bfad404899d
Revises: 9c87ca5a3f89
Create Date: 2026-12-02 10:14:35.296575

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9bfad404899d'
down_revision = '9c87ca5a3f89'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.create_index('ix_content_items_pending', ['id'], unique=False, postgresql_where=sa.text("approval = 'pending'"), sqlite_where=sa.text("approval = 'pending'"))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_created_at', ['created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_created_at')

    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.drop_index('ix_content_items_pending', postgresql_where=sa.text("approval = 'pending'"), sqlite_where=sa.text("approval = 'pending'"))
