"""Audit summaries in the reader's language: a message id and its parameters beside the stored text

Revision ID: 7d3e9b1c4a20
Revises: 5a1f0c3e2b7d
Create Date: 2026-12-07 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7d3e9b1c4a20'
down_revision = '5a1f0c3e2b7d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('params')
        batch_op.drop_column('message')
