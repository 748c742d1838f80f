"""A chain's first hour: HQ's naming rules, and the stores whose gaps were handed to their managers

Revision ID: 9b4c2e7f1d35
Revises: 7d3e9b1c4a20
Create Date: 2026-12-07 11:00:00

"""
import sqlalchemy as sa
from alembic import op

import matrix.models

# revision identifiers, used by Alembic.
revision = '9b4c2e7f1d35'
down_revision = '7d3e9b1c4a20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('naming_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_name_rule', sa.String(length=120), nullable=False),
    sa.Column('group_name_rule', sa.String(length=120), nullable=False),
    sa.Column('updated_at', matrix.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_naming_rules'))
    )
    op.create_table('handovers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('handed_by_id', sa.Integer(), nullable=True),
    sa.Column('handed_at', matrix.models.UTCDateTime(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['handed_by_id'], ['users.id'], name=op.f('fk_handovers_handed_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_handovers_store_id_stores'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers')),
    sa.UniqueConstraint('store_id', name=op.f('uq_handovers_store_id'))
    )


def downgrade():
    op.drop_table('handovers')
    op.drop_table('naming_rules')
