"""The store's public page as a visitor sees it: public fields only, no cookie, the right join code, counted."""
import re

from sqlalchemy import func, select

from matrix import geo
from matrix.extensions import db
from matrix.joins.models import JoinWay, JoinWayStatus
from matrix.joins.states import make_state
from matrix.leads.phones import encrypt_text
from matrix.storefront.counting import counter, flush_counts
from matrix.storefront.models import PageCount
from matrix.stores.models import StoreStatus
from matrix.wecom.models import WecomConnection

SECRETS = ("乙门店隐私", "乙地址隐私", "77779999", "b_secret_handle", "乙号隐私", "乙群隐私", "bsecret", "乙直播隐私",
           "乙主播", "主播隐私", "店长隐私", "13911112222", "运营员工隐私", "ROBOTSECRETA", "full1", "paused2",
           "javascript:")


def test_page_shows_the_store_to_a_visitor_and_nothing_else(client, storefront):
    response = client.get("/s/HZ-001?c=poster", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for shown in ("栖木家居·杭州西湖店", "文三路100号", "周一至周日 10:00-22:00", "0571-88880000", "栖木西湖店",
                  "@qimu_xihu", "https://www.douyin.com/user/qimu_xihu", "冬季新品直播", "西湖店3群",
                  "/s/HZ-001/join?c=poster", "橱窗海报", "加入门店福利群"):
        assert shown in html, shown
    for secret in SECRETS:
        assert secret not in html, secret
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "Accept-Language" in response.headers["Vary"]


def test_the_map_link_is_amap_in_gcj02(client, storefront):
    store = storefront["store_a"]
    html = client.get("/s/HZ-001").get_data(as_text=True)
    point = geo.from_wgs84(store.lon, store.lat, geo.CoordSystem.GCJ02)
    assert f"https://uri.amap.com/marker?position={point.lon:.6f}%2C{point.lat:.6f}" in html
    assert "coordinate=gaode" in html
    assert abs(point.lon - store.lon) > 0.001  # GCJ-02 really differs from the stored WGS-84 point


def test_no_page_for_a_store_that_is_not_open(client, storefront, make_store):
    make_store(code="PL-001", status=StoreStatus.PLANNED)
    make_store(code="CL-001", status=StoreStatus.CLOSED)
    for code in ("PL-001", "CL-001", "NOPE", "x" * 300, "HZ-001%27%20OR%201=1"):
        response = client.get(f"/s/{code}")
        assert response.status_code == 404, code
        assert "Set-Cookie" not in response.headers


def test_the_visitors_language_comes_from_the_browser(client, storefront):
    english = client.get("/s/HZ-001", headers={"Accept-Language": "en-GB,zh;q=0.5"}).get_data(as_text=True)
    chinese = client.get("/s/HZ-001", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Join the group" in english and "Join the group" not in chinese
    assert "lang=\"zh-Hans\"" in chinese and "lang=\"en\"" in english


def test_unknown_channels_count_as_other_and_views_store_nothing_personal(client, storefront):
    store = storefront["store_a"]
    for channel in ("poster", "poster", "bio", "<script>", ""):
        client.get(f"/s/HZ-001?c={channel}")
    pending = {(c, v) for (s, c, _d), (v, _j) in counter.pending().items() if s == store.id}
    assert pending == {("poster", 2), ("bio", 1), ("other", 1), ("page", 1)}
    assert flush_counts() == 4
    rows = {r.channel: r.views for r in db.session.scalars(select(PageCount))}
    assert rows == {"poster": 2, "bio": 1, "other": 1, "page": 1}
    # The table has no column that could hold who viewed.
    assert set(PageCount.__table__.columns.keys()) == {"store_id", "channel", "day", "views", "join_clicks"}


def test_join_button_counts_then_opens_the_current_groups_link(client, storefront):
    store = storefront["store_a"]
    response = client.get("/s/HZ-001/join?c=trailer")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://work.weixin.qq.com/gm/room3"
    assert "Set-Cookie" not in response.headers
    flush_counts()
    row = db.session.scalar(select(PageCount).where(PageCount.store_id == store.id))
    assert (row.channel, row.views, row.join_clicks) == ("trailer", 0, 1)


def test_with_wecom_each_channel_shows_its_own_join_code(client, storefront):
    store = storefront["store_a"]
    db.session.add(WecomConnection(corp_id="ww0123456789abcdef", secret_encrypted=encrypt_text("s" * 32)))
    db.session.add_all([JoinWay(store_id=store.id, channel=c, state=make_state(store.id, c), config_id=f"cfg-{c}",
                                qr_code=f"https://wework.qpic.cn/wwpic/{c}QR/0", chat_ids=["wrA"],
                                status=JoinWayStatus.READY, stale=False) for c in ("poster", "page")])
    db.session.commit()
    assert "posterQR" in client.get("/s/HZ-001?c=poster").get_data(as_text=True)
    other = client.get("/s/HZ-001?c=whatever").get_data(as_text=True)
    assert "pageQR" in other and "posterQR" not in other
    assert client.get("/s/HZ-001/join?c=poster").headers["Location"] == "https://wework.qpic.cn/wwpic/posterQR/0"


def test_a_store_whose_groups_are_all_full_offers_no_full_group(client, storefront, make_store, make_community):
    store = make_store(code="HZ-009", name="满员店")
    make_community(store, name="满员群", members=500, capacity=500, invite_link="https://work.weixin.qq.com/gm/full9")
    html = client.get("/s/HZ-009").get_data(as_text=True)
    assert "满员群" not in html and "full9" not in html
    assert client.get("/s/HZ-009/join").headers["Location"].endswith("/s/HZ-009?c=page")


def test_the_group_qr_image_is_only_the_current_groups(client, storefront, make_community):
    store = storefront["store_a"]
    assert client.get("/s/HZ-001/qr").status_code == 404  # the current group has a link, no image
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 40
    make_community(store, name="带码群", rotation_order=0, qr_image=png, qr_mime="image/png")
    response = client.get("/s/HZ-001/qr")
    assert response.status_code == 200 and response.data == png
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_is_cached_but_every_view_is_counted_and_every_form_gets_its_own_token(app, client, storefront):
    app.config["STOREFRONT_CACHE_S"] = 60
    try:
        client.get("/s/HZ-001?c=bio")
        statements = []
        from sqlalchemy import event
        engine = db.engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            first = client.get("/s/HZ-001?c=bio").get_data(as_text=True)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert statements == []
        assert re.search(r'name="token" value="[0-9a-f]+\.[0-9a-f]{12}\.[0-9a-f]{32}"', first)
    finally:
        app.config["STOREFRONT_CACHE_S"] = 0
    assert counter.pending()[(storefront["store_a"].id, "bio", next(iter(counter.pending()))[2])][0] == 2


def test_privacy_notice(client, storefront):
    html = client.get("/privacy").get_data(as_text=True)
    assert "我们只用您的电话回电。" in html and "不会转交他人。" in html


def test_no_counts_for_a_missing_page(client, storefront):
    client.get("/s/NOPE?c=poster")
    client.get("/s/NOPE/join?c=poster")
    assert counter.pending() == {}
    assert db.session.scalar(select(func.count()).select_from(PageCount)) == 0
