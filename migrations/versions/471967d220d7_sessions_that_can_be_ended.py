"""Sessions that can be ended (users.session_version) and the sign-in throttle per address

Revision ID: 471967d220d7
Revises: 4c49ee09ab97
Create Date: 2026-12-02 09:04:45.580397

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '471967d220d7'
down_revision = '4c49ee09ab97'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_remote_addr'), ['remote_addr'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')

    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_remote_addr'))

