"""Community pages through a web client: list, detail, QR, forms, rotation, and who may see what."""
import io

import pytest
from sqlalchemy import select

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.communities.models import Community
from matrix.extensions import db
from samples import ROBOT, png

KEY = ROBOT.partition("key=")[2]


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    """Pages in English, so messages match whatever the Chinese catalog says (see test_accounts_views)."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


@pytest.fixture
def two_stores(make_store, make_user):
    """A manager of store A; store B belongs to someone else."""
    own = make_store(code="HZ-001", name="杭州西湖店")
    other = make_store(code="SH-001", name="上海徐汇店", city="上海", district="徐汇区")
    manager = make_user(Role.STORE_MANAGER, stores=[own])
    return own, other, manager


def _form(store, **fields):
    data = {"store_id": store.id if store else "", "name": "西湖二群", "kind": "wecom", "capacity": "200",
            "members": "12", "invite_link": "https://work.weixin.qq.com/gm/abc", "active": "y"}
    return data | fields


def _upload(data: bytes, filename="qr.png"):
    return (io.BytesIO(data), filename)


def test_list_columns_filters_and_masked_robot(client, login, make_user, two_stores, make_community):
    own, other, _ = two_stores
    login(make_user(Role.OPERATOR))
    make_community(own, name="西湖满群", members=200, capacity=200, robot_webhook_url=ROBOT, rotation_order=1)
    make_community(own, name="西湖新群", members=20, rotation_order=2)
    make_community(other, name="徐汇一群", kind="wechat", active=False, members=5)
    html = client.get("/communities/").get_data(as_text=True)
    for text in ("HZ-001", "杭州西湖店", "西湖满群", "200 / 200", "<meter", "badge-banned", "key=****", "WeChat group"):
        assert text in html
    assert KEY not in html

    def names(**args):
        page = client.get("/communities/", query_string=args).get_data(as_text=True)
        return {n for n in ("西湖满群", "西湖新群", "徐汇一群") if n in page}

    assert names(city=other.city_code) == {"徐汇一群"}
    assert names(store=own.id) == {"西湖满群", "西湖新群"}
    assert names(kind="wechat") == {"徐汇一群"}
    assert names(full="yes") == {"西湖满群"}
    assert names(full="no") == {"西湖新群", "徐汇一群"}
    assert names(no_robot="1") == {"西湖新群", "徐汇一群"}
    assert names(active="no") == {"徐汇一群"}


def test_detail_shows_qr_invite_and_rotation_with_current(client, login, two_stores, make_community):
    own, other, manager = two_stores
    full = make_community(own, name="一群", members=200, capacity=200, rotation_order=1, robot_webhook_url=ROBOT,
                          qr_image=png(), qr_mime="image/png", invite_link="https://work.weixin.qq.com/gm/x1")
    second = make_community(own, name="二群", rotation_order=2)
    login(manager)
    html = client.get(f"/communities/{full.id}").get_data(as_text=True)
    assert f"/communities/{full.id}/qr" in html and "https://work.weixin.qq.com/gm/x1" in html
    assert "二群" in html and "Current" in html and KEY not in html
    assert html.index("Current") > html.index("二群") > html.index("一群")
    response = client.get(f"/communities/{full.id}/qr")
    assert response.status_code == 200 and response.mimetype == "image/png" and response.data == png()
    assert client.get(f"/communities/{second.id}/qr").status_code == 404  # no image


def test_manager_cannot_reach_another_stores_groups(client, login, post, two_stores, make_community):
    own, other, manager = two_stores
    theirs = make_community(other, name="徐汇一群", qr_image=png(), qr_mime="image/png", rotation_order=1)
    neighbour = make_community(other, name="徐汇二群", rotation_order=2)
    login(manager)
    assert "徐汇一群" not in client.get("/communities/").get_data(as_text=True)
    for url in ("", "/qr", "/edit", "/delete"):
        assert client.get(f"/communities/{theirs.id}{url}").status_code == 404
    assert post(f"/communities/{theirs.id}/edit", _form(own, name="stolen")).status_code == 404
    assert post(f"/communities/{theirs.id}/delete").status_code == 404
    assert post(f"/communities/{neighbour.id}/move", {"direction": "up"}).status_code == 404
    db.session.expire_all()
    assert (theirs.name, theirs.rotation_order, neighbour.rotation_order) == ("徐汇一群", 1, 2)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "community")) is None


def test_manager_with_forged_store_id_gets_404_and_nothing_saved(client, login, post, two_stores):
    own, other, manager = two_stores
    login(manager)
    html = client.get("/communities/new").get_data(as_text=True)
    assert "杭州西湖店" in html and "上海徐汇店" not in html
    assert f'selected value="{own.id}"' in html  # the only store a manager runs is picked already
    assert client.get(f"/communities/new?store_id={other.id}").status_code == 404
    assert post("/communities/new", _form(other)).status_code == 404
    assert db.session.scalar(select(Community)) is None


def test_create_with_qr_upload_joins_the_end_of_the_rotation(client, login, post, two_stores, make_community):
    own, other, manager = two_stores
    make_community(own, name="西湖一群", rotation_order=7)
    login(manager)
    response = post("/communities/new", _form(own, qr_upload=_upload(png(300, 300)), robot_webhook_url=ROBOT),
                    content_type="multipart/form-data")
    assert response.status_code == 302
    created = db.session.scalar(select(Community).where(Community.name == "西湖二群"))
    assert (created.store_id, created.rotation_order, created.qr_mime, created.members) == (own.id, 8, "image/png", 12)
    assert created.robot_webhook_url == ROBOT


def test_more_members_than_capacity_saves_with_a_warning(client, login, post, two_stores):
    own, other, manager = two_stores
    login(manager)
    response = post("/communities/new", _form(own, members="300"), follow_redirects=True)
    assert response.status_code == 200
    assert "More members than capacity" in response.get_data(as_text=True)
    assert db.session.scalar(select(Community.members)) == 300


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.4 definitely not an image", "is not a PNG, JPEG, GIF or WebP"),
    (png(300, 300) + b"\x00" * (2 * 1024 * 1024), "larger than 2 MB"),
    (png(20, 20), "between 80 and 4000 pixels"),
])
def test_bad_qr_upload_is_refused_and_nothing_saved(client, login, post, two_stores, data, message):
    own, other, manager = two_stores
    login(manager)
    response = post("/communities/new", _form(own, qr_upload=_upload(data)), content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'value="西湖二群"' in html  # the rest of what was typed stays
    assert db.session.scalar(select(Community)) is None


def test_bad_qr_on_edit_changes_no_other_field(client, login, post, two_stores, make_community):
    own, other, manager = two_stores
    community = make_community(own, name="原名")
    login(manager)
    response = post(f"/communities/{community.id}/edit",
                    _form(own, name="新名", capacity="9999", qr_upload=_upload(b"GIF89a")),
                    content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "is not a PNG, JPEG, GIF or WebP" in html and "capacity must be between" in html  # both at once
    db.session.expire_all()
    assert community.name == "原名" and community.qr_image is None


def test_robot_on_another_host_is_refused(client, login, post, two_stores):
    own, other, manager = two_stores
    login(manager)
    evil = "https://127.0.0.1/cgi-bin/webhook/send?key=abcdefghijk"
    response = post("/communities/new", _form(own, robot_webhook_url=evil))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "must be a WeCom address" in html and "abcdefghijk" not in html
    assert db.session.scalar(select(Community)) is None


def test_webhook_key_never_appears_in_pages_or_audit(client, login, post, make_user, two_stores):
    own, other, _ = two_stores
    login(make_user(Role.ADMIN))
    assert post("/communities/new", _form(own, robot_webhook_url=ROBOT)).status_code == 302
    community = db.session.scalar(select(Community))
    # A refused save re-renders the form: the typed key must not come back either.
    refused = post(f"/communities/{community.id}/edit", _form(own, capacity="9999", robot_webhook_url=ROBOT))
    assert refused.status_code == 422
    pages = [client.get(url).get_data(as_text=True) for url in
             ("/communities/", f"/communities/{community.id}", f"/communities/{community.id}/edit",
              f"/communities/{community.id}/delete")]
    for html in pages + [refused.get_data(as_text=True)]:
        assert KEY not in html and "secret-key" not in html
    assert "key=****7d6c" in pages[2] and "Leave empty to keep it" in pages[2]
    for entry in db.session.scalars(select(AuditEntry)):
        assert KEY not in str(entry.changes) and "secret-key" not in str(entry.summary)


def test_edit_keeps_replaces_or_removes_the_webhook(client, login, post, two_stores, make_community):
    own, other, manager = two_stores
    community = make_community(own, name="一群", robot_webhook_url=ROBOT)
    login(manager)
    assert post(f"/communities/{community.id}/edit", _form(own, name="一群改", robot_webhook_url="")).status_code == 302
    db.session.expire_all()
    assert (community.name, community.robot_webhook_url) == ("一群改", ROBOT)
    new_robot = ROBOT.replace("0a1b2c3d", "99999999")
    post(f"/communities/{community.id}/edit", _form(own, name="一群改", robot_webhook_url=new_robot))
    db.session.expire_all()
    assert community.robot_webhook_url == new_robot
    post(f"/communities/{community.id}/edit", _form(own, name="一群改", clear_webhook="y"))
    db.session.expire_all()
    assert community.robot_webhook_url is None


def test_move_and_delete_from_the_pages(client, login, post, two_stores, make_community):
    own, other, manager = two_stores
    first = make_community(own, name="一群", rotation_order=1)
    second = make_community(own, name="二群", rotation_order=2)
    login(manager)
    assert post(f"/communities/{second.id}/move", {"direction": "up"}).status_code == 302
    db.session.expire_all()
    assert (first.rotation_order, second.rotation_order) == (2, 1)
    assert post(f"/communities/{second.id}/move", {"direction": "sideways"}).status_code == 302
    db.session.expire_all()
    assert second.rotation_order == 1
    assert "一群" in client.get(f"/communities/{first.id}/delete").get_data(as_text=True)
    assert post(f"/communities/{first.id}/delete").status_code == 302
    assert db.session.get(Community, first.id) is None
    assert db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "community")
                              .order_by(AuditEntry.id)).all() == \
        ["move", "move", "delete"]
