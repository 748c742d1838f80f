"""The four platforms every chain in China starts with (data only)

Revision ID: 5a1f0c3e2b7d
Revises: 0c806d2f1e92
Create Date: 2026-12-07 09:00:00

`flask db upgrade` alone gives a new install Douyin, Kuaishou, WeChat Channels and Xiaohongshu, so
nobody has to guess platform codes and URL hosts. A platform whose code exists is left as HQ set it;
running it on a database that has them adds nothing. The rows are written here, not read from the app,
so the migration stays what it was when the app's list changes.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5a1f0c3e2b7d'
down_revision = '0c806d2f1e92'
branch_labels = None
depends_on = None

PLATFORMS = [
    ("douyin", "抖音", "Douyin", "douyin.com,iesdouyin.com", 10),
    ("kuaishou", "快手", "Kuaishou", "kuaishou.com,gifshow.com", 20),
    ("channels", "视频号", "WeChat Channels", "channels.weixin.qq.com,weixin.qq.com", 30),
    ("xiaohongshu", "小红书", "Xiaohongshu", "xiaohongshu.com,xhslink.com", 40),
]

platforms = sa.table("platforms", sa.column("code", sa.String), sa.column("name_zh", sa.String),
                     sa.column("name_en", sa.String), sa.column("url_hosts", sa.String),
                     sa.column("sort_order", sa.Integer), sa.column("enabled", sa.Boolean))


def upgrade():
    connection = op.get_bind()
    existing = set(connection.execute(sa.select(platforms.c.code)).scalars())
    rows = [{"code": code, "name_zh": zh, "name_en": en, "url_hosts": hosts, "sort_order": order, "enabled": True}
            for code, zh, en, hosts, order in PLATFORMS if code not in existing]
    if rows:
        op.bulk_insert(platforms, rows)


def downgrade():
    # The platforms may carry accounts by now: going back leaves them in place.
    pass
