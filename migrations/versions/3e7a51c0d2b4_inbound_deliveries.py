"""Lead webhooks accepted durably: inbound deliveries stored before the answer, routed by the worker;
robots' addresses indexed (the worker checks each send's robot against both audiences)

Revision ID: 3e7a51c0d2b4
Revises: 9bfad404899d
Create Date: 2026-12-02 12:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

import matrix.models

# revision identifiers, used by Alembic.
revision = '3e7a51c0d2b4'
down_revision = '9bfad404899d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inbound_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=120), nullable=False),
    sa.Column('message_id', sa.String(length=120), nullable=True),
    sa.Column('body_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('state', sa.Enum('pending', 'routed', 'failed', name='deliverystate', native_enum=False, length=10), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('received_at', matrix.models.UTCDateTime(), nullable=False),
    sa.Column('routed_at', matrix.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_inbound_deliveries_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['lead_sources.id'], name=op.f('fk_inbound_deliveries_source_id_lead_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_deliveries')),
    sa.UniqueConstraint('source_id', 'dedupe_key', name='uq_inbound_deliveries_source_key')
    )
    with op.batch_alter_table('inbound_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_deliveries_state', ['state', 'id'], unique=False)
    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_communities_robot_webhook_url'), ['robot_webhook_url'], unique=False)
    with op.batch_alter_table('staff_channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_channels_robot_webhook_url'), ['robot_webhook_url'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_channels_robot_webhook_url'))
    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_communities_robot_webhook_url'))
    with op.batch_alter_table('inbound_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_deliveries_state')
    op.drop_table('inbound_deliveries')
