"""Fixtures of the two audiences: a store's staff channel (confirmed or a candidate) and a customer group robot."""
import pytest

from matrix.communities.models import Community, StaffChannel
from matrix.extensions import db
from matrix.models import utcnow


def webhook(key: str) -> str:
    """A robot's stored URL, as robot_server.webhook writes it (not imported: a plugin loads before it)."""
    return f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}"


@pytest.fixture
def make_staff_channel(app):
    """A store's staff channel on the robot of `key`; confirmed unless `confirmed=False` (an upgrade's candidate)."""
    def build(store, key: str, *, confirmed: bool = True, **extra) -> StaffChannel:
        channel = StaffChannel(store_id=store.id, robot_webhook_url=webhook(key),
                               confirmed_at=utcnow() if confirmed else None, **extra)
        db.session.add(channel)
        db.session.commit()
        return channel
    return build


@pytest.fixture
def make_customer_group(app):
    """A customer group of `store` whose robot (`key`) is confirmed for customer posts unless `confirmed=False`."""
    def build(store, key: str, *, confirmed: bool = True, name: str | None = None, **extra) -> Community:
        group = Community(store_id=store.id, name=name or f"顾客群{key[-4:]}", robot_webhook_url=webhook(key),
                          robot_confirmed_at=utcnow() if confirmed else None, **extra)
        db.session.add(group)
        db.session.commit()
        return group
    return build
