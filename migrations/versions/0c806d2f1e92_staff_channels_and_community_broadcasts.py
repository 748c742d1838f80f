"""Staff channels apart from customer groups; outbox rows with a kind, a target and a schedule; community posts

Revision ID: 0c806d2f1e92
Revises: b199ec8b1868
Create Date: 2026-12-02 09:19:22.747387

Robots recorded before this revision sat on communities, and nobody knows which group each is in. Nothing is
assumed: every store with a robot gets an UNCONFIRMED staff-channel candidate (the robot of its first group in
rotation), every group keeps its robot UNCONFIRMED for customer posts, and every lead alert still waiting is
HELD (not sent, not lost) until someone confirms the store's staff channel.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import matrix.models


# revision identifiers, used by Alembic.
revision = '0c806d2f1e92'
down_revision = 'b199ec8b1868'
branch_labels = None
depends_on = None

HELD_REASON = "held: no confirmed staff channel"
TARGET_CHECK = ("(kind IN ('lead_alert', 'lead_reminder', 'digest') AND community_id IS NULL) OR "
                "(kind IN ('trailer_post', 'live_now') AND staff_channel_id IS NULL AND lead_id IS NULL)")


def _new_tables():
    op.create_table('broadcast_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reminder_hours', sa.Integer(), nullable=False),
    sa.Column('digest_on', sa.Boolean(), nullable=False),
    sa.Column('digest_at', sa.String(length=5), nullable=False),
    sa.Column('updated_at', matrix.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast_settings'))
    )
    op.create_table('store_posts',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('community_posts', sa.Boolean(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', matrix.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_store_posts_changed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_store_posts_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_store_posts'))
    )
    op.create_table('staff_channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('robot_webhook_url', sa.String(length=500), nullable=False),
    sa.Column('confirmed_at', matrix.models.UTCDateTime(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('source_community_id', sa.Integer(), nullable=True),
    sa.Column('robot_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', matrix.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', matrix.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_staff_channels_confirmed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_community_id'], ['communities.id'], name=op.f('fk_staff_channels_source_community_id_communities'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_staff_channels_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_channels')),
    sa.UniqueConstraint('store_id', name=op.f('uq_staff_channels_store_id'))
    )


def _candidates(connection) -> None:
    """Each store with a robot gets its first group's robot (active groups first, rotation order) as a candidate."""
    rows = connection.execute(sa.text(
        "SELECT id, store_id, robot_webhook_url FROM communities "
        "WHERE robot_webhook_url IS NOT NULL AND robot_webhook_url <> '' "
        "ORDER BY store_id, CASE WHEN active THEN 0 ELSE 1 END, rotation_order, id")).all()
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # UTCDateTime stores naive UTC
    chosen = {}
    for community_id, store_id, url in rows:
        chosen.setdefault(store_id, {"store_id": store_id, "robot_webhook_url": url,
                                     "source_community_id": community_id, "created_at": now, "updated_at": now})
    if chosen:
        connection.execute(sa.text(
            "INSERT INTO staff_channels (store_id, robot_webhook_url, source_community_id, created_at, updated_at) "
            "VALUES (:store_id, :robot_webhook_url, :source_community_id, :created_at, :updated_at)"),
            list(chosen.values()))


def upgrade():
    _new_tables()
    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('robot_confirmed_at', matrix.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('robot_confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_communities_robot_confirmed_by_id_users'), 'users', ['robot_confirmed_by_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('live_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('live_url', sa.String(length=500), nullable=True))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('lead_alert', 'lead_reminder', 'digest', 'trailer_post', 'live_now', name='notificationkind', native_enum=False, length=16), nullable=True))
        batch_op.add_column(sa.Column('staff_channel_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('not_before', matrix.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('expires_at', matrix.models.UTCDateTime(), nullable=True))

    connection = op.get_bind()
    _candidates(connection)
    # Every row so far told a store about a lead: a staff message. Waiting ones are held for the store's
    # confirmed staff channel (the candidate's id is kept to show where they would go); none names a group any
    # more, since a group's robot may sit among customers.
    connection.execute(sa.text("UPDATE notifications SET kind = 'lead_alert'"))
    connection.execute(sa.text(
        "UPDATE notifications SET status = 'held', locked_until = NULL, last_error = :reason, "
        "staff_channel_id = (SELECT s.id FROM staff_channels s WHERE s.store_id = notifications.store_id) "
        "WHERE status = 'pending'"), {"reason": HELD_REASON})
    connection.execute(sa.text("UPDATE notifications SET community_id = NULL"))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.Enum('lead_alert', 'lead_reminder', 'digest', 'trailer_post', 'live_now', name='notificationkind', native_enum=False, length=16), nullable=False)
        batch_op.create_index(batch_op.f('ix_notifications_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_staff_channel_id'), ['staff_channel_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_notifications_dedupe_key'), ['dedupe_key'])
        batch_op.create_foreign_key(batch_op.f('fk_notifications_staff_channel_id_staff_channels'), 'staff_channels', ['staff_channel_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_notifications_session_id_live_sessions'), 'live_sessions', ['session_id'], ['id'], ondelete='CASCADE')
        batch_op.create_check_constraint(op.f('ck_notifications_target_fits_audience'), TARGET_CHECK)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_target_fits_audience'), type_='check')
    connection = op.get_bind()
    # Only lead alerts existed before: the rest goes; held alerts wait again for the lead's group robot.
    connection.execute(sa.text("DELETE FROM notifications WHERE kind <> 'lead_alert'"))
    connection.execute(sa.text(
        "UPDATE notifications SET community_id = (SELECT l.community_id FROM leads l WHERE l.id = notifications.lead_id)"))
    connection.execute(sa.text("UPDATE notifications SET status = 'pending', last_error = NULL WHERE status = 'held'"))
    connection.execute(sa.text("UPDATE notifications SET status = 'failed' WHERE status = 'cancelled'"))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_session_id_live_sessions'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_notifications_staff_channel_id_staff_channels'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_notifications_dedupe_key'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_notifications_staff_channel_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_session_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_kind'))
        batch_op.drop_column('expires_at')
        batch_op.drop_column('not_before')
        batch_op.drop_column('dedupe_key')
        batch_op.drop_column('session_id')
        batch_op.drop_column('staff_channel_id')
        batch_op.drop_column('kind')

    with op.batch_alter_table('live_sessions', schema=None) as batch_op:
        batch_op.drop_column('live_url')

    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_communities_robot_confirmed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('robot_confirmed_by_id')
        batch_op.drop_column('robot_confirmed_at')

    op.drop_table('staff_channels')
    op.drop_table('store_posts')
    op.drop_table('broadcast_settings')
