"""Community services: the rotation, moves, QR images and the robot secret, without a web client."""

import pytest
from sqlalchemy import select

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.communities import services
from matrix.communities.values import clean_community
from matrix.errors import DomainError
from matrix.extensions import db
from samples import ROBOT, png

def test_rotation_order_and_current_group(make_store, make_community):
    store = make_store()
    full = make_community(store, name="一群", rotation_order=1, members=200, capacity=200)
    off = make_community(store, name="二群", rotation_order=2, active=False)
    open_group = make_community(store, name="三群", rotation_order=3)
    assert services.rotation(store.id) == [full, off, open_group]
    assert services.current_community(store.id) == open_group
    assert services.next_rotation_order(store.id) == 4
    assert services.next_rotation_order(make_store().id) == 1


def test_move_swaps_with_the_neighbour_and_is_audited(make_store, make_community, make_user):
    admin, store = make_user(Role.ADMIN), make_store()
    a = make_community(store, name="A", rotation_order=10)
    b = make_community(store, name="B", rotation_order=20)
    c = make_community(store, name="C", rotation_order=30)
    assert services.move_community(c, direction="up", actor=admin)
    assert services.rotation(store.id) == [a, c, b]
    assert (b.rotation_order, c.rotation_order) == (30, 20)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "move")).all()
    assert sorted(e.changes["rotation_order"] for e in entries) == [[20, 30], [30, 20]]
    assert not services.move_community(a, direction="up", actor=admin)
    assert not services.move_community(b, direction="down", actor=admin)
    with pytest.raises(DomainError):
        services.move_community(a, direction="sideways", actor=admin)


def test_move_numbers_groups_that_share_a_place(make_store, make_community, make_user):
    store = make_store()
    a, b, c = (make_community(store, name=n) for n in "ABC")  # all rotation_order 0, as an import leaves them
    services.move_community(b, direction="up", actor=make_user(Role.ADMIN))
    assert services.rotation(store.id) == [b, a, c]
    assert [g.rotation_order for g in services.rotation(store.id)] == [1, 2, 3]


def test_create_with_qr_image_and_robot(make_store, make_user):
    store = make_store()
    cleaned = clean_community({"store_id": store.id, "name": "西湖一群", "robot_webhook_url": ROBOT})
    community = services.create_community(cleaned, actor=make_user(Role.ADMIN), qr_image=png())
    assert community.qr_mime == "image/png"
    assert community.masked_webhook.endswith("key=****7d6c")


def test_bad_qr_image_saves_nothing(make_store, make_user):
    store = make_store()
    cleaned = clean_community({"store_id": store.id, "name": "西湖一群"})
    for data in (b"not an image at all", png(40, 40)):
        with pytest.raises(DomainError):
            services.create_community(cleaned, actor=make_user(Role.ADMIN), qr_image=data)
        db.session.rollback()
    assert services.rotation(store.id) == []


def test_robot_on_another_host_is_refused(make_store):
    cleaned = clean_community({"store_id": make_store().id, "name": "群",
                               "robot_webhook_url": "https://evil.example.com/cgi-bin/webhook/send?key=abcdefgh"})
    assert "robot_webhook_url" in cleaned.errors


def test_update_keeps_the_webhook_when_left_empty_and_audit_never_holds_it(make_store, make_community,
                                                                          make_user):
    admin, store = make_user(Role.ADMIN), make_store()
    community = make_community(store, name="群", robot_webhook_url=ROBOT)
    raw = {"store_id": store.id, "name": "改名的群", "robot_webhook_url": ""}
    services.update_community(community, clean_community(raw), actor=admin, keep_webhook=True)
    assert community.robot_webhook_url == ROBOT
    other = ROBOT.replace("0a1b2c3d", "ffffffff").replace("9f8e7d6c", "11112222")
    services.update_community(community, clean_community(raw | {"robot_webhook_url": other}), actor=admin)
    services.update_community(community, clean_community(raw), actor=admin, keep_webhook=False)
    assert community.robot_webhook_url is None
    for entry in db.session.scalars(select(AuditEntry)):
        assert "secret-key" not in str(entry.changes) and "0a1b2c3d" not in str(entry.changes)
