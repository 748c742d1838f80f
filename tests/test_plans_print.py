"""The printable plan as HTML (no browser needed): sheets, QR code, live box, and the group it points to."""
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from fixtures_plans import MONDAY, WEEK
from flask import url_for

from matrix.auth.models import Role
from matrix.communities.services import current_community
from matrix.content.models import Approval, ContentKind, ItemStatus
from matrix.plans.printing import current_communities, qr_svg

PRINT_CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "print.css"


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


def test_store_sheet(client, login, week_shop, make_item, make_community):
    store, account = week_shop["store"], week_shop["account"]
    make_community(store, name="满员群", members=200, capacity=200, rotation_order=1,
                   invite_link="https://work.weixin.qq.com/gm/full")
    make_community(store, name="西湖二群", rotation_order=2, invite_link="https://work.weixin.qq.com/gm/two")
    make_item(store, account, day=MONDAY + timedelta(days=4), slot="19:30", kind=ContentKind.TRAILER,
              topic="周六直播预告")
    make_item(store, account, day=MONDAY, slot="09:00", topic="被拒的选题", approval=Approval.REJECTED)
    make_item(store, account, day=MONDAY, slot="10:00", topic="已取消的预告", status=ItemStatus.CANCELLED)
    login(week_shop["manager"])
    html = client.get(url_for("plans.print_store", store_id=store.id, week=WEEK)).get_data(as_text=True)
    assert html.count('class="sheet"') == 1 and "css/print.css" in html
    assert "mainnav" not in html and "app.css" not in html
    for text in ("杭州西湖店", "HZ-001", "2026-W48", "新品到店", "本周新品到店", "店员推荐", "hz_xihu",
                 "周六直播预告", "Scan to join 西湖二群", "<svg", "Printed 20"):
        assert text in html, text
    assert "满员群" not in html and "被拒的选题" not in html and "已取消的预告" not in html
    assert html.index("Mon") < html.index("Tue") < html.index("Sun")


def test_group_without_link_is_named(client, login, week_shop, make_community):
    make_community(week_shop["store"], name="无链接群")
    login(week_shop["manager"])
    html = client.get(url_for("plans.print_store", store_id=week_shop["store"].id, week=WEEK)).get_data(as_text=True)
    assert "无链接群" in html and "no invite link" in html and "<svg" not in html


def test_city_print_for_hq(client, login, make_user, make_store):
    stores = [make_store(code=f"NJ-00{n}", city="南京", district="玄武区") for n in (3, 1, 2)]
    make_store(code="NJ-009", city="南京", district="玄武区", status="closed")
    login(make_user(Role.OPERATOR))
    html = client.get(url_for("plans.print_city", city=stores[0].city_code, week=WEEK)).get_data(as_text=True)
    assert html.count('class="sheet"') == 3
    assert html.index("NJ-001") < html.index("NJ-002") < html.index("NJ-003") and "NJ-009" not in html
    response = client.get(url_for("plans.print_city", city="999999", week=WEEK))
    assert response.status_code == 302
    assert client.get(url_for("plans.print_city", city=stores[0].city_code, week="nope")).status_code == 404


def test_current_communities_agree_with_the_rotation(week_shop, make_community):
    store, other = week_shop["store"], week_shop["other"]
    make_community(store, name="满", members=200, capacity=200, rotation_order=1)
    make_community(store, name="停用", active=False, rotation_order=2)
    make_community(store, name="可用", rotation_order=3)
    make_community(other, name="全满", members=500, capacity=500)
    chosen = current_communities([store.id, other.id])
    assert chosen[store.id] == current_community(store.id) and chosen[store.id].name == "可用"
    assert other.id not in chosen and current_community(other.id) is None


def test_qr_is_inline_svg_sized_by_css():
    svg = str(qr_svg("https://work.weixin.qq.com/gm/abc"))
    assert svg.startswith("<svg") and "viewBox" in svg and "width=" not in svg.split(">")[0]


def test_print_css_rules():
    css = PRINT_CSS.read_text()
    for rule in ("size: A4 landscape", "margin: 10mm", "page-break-after: always", "line-break: strict",
                 "repeat(7, minmax(0, 1fr))", "font-size: 8.5pt"):
        assert rule in css, rule


def test_templates_invite_to_the_same_group_as_the_print_and_the_live_code(week_shop, make_community):
    from matrix.content.variables import store_variables

    store, other = week_shop["store"], week_shop["other"]
    make_community(store, name="满", members=200, capacity=200, rotation_order=1)
    make_community(store, name="可用", invite_link="https://work.weixin.qq.com/gm/ok", rotation_order=2)
    make_community(other, name="全满", members=500, capacity=500)
    monday = date(2026, 11, 23)
    mine = store_variables(store, monday)
    assert (mine["community_name"], mine["community_link"]) == ("可用", "https://work.weixin.qq.com/gm/ok")
    assert current_community(store.id).name == "可用"
    assert store_variables(other, monday)["community_name"] == ""     # no group with room: nobody is invited


def test_a_day_column_takes_the_roomiest_density_that_holds_it():
    from matrix.plans.sheets import DENSITIES, day_cell

    items = list(range(15))
    assert [(n, day_cell(MONDAY, items, n, "21:00").density) for n in (0, 3, 4, 5, 6, 8, 9, 11)] == [
        (0, "roomy"), (3, "roomy"), (4, "snug"), (5, "snug"), (6, "compact"), (8, "compact"), (9, "dense"),
        (11, "dense")]
    crowded = day_cell(MONDAY, items[:11], 48, "21:30")
    assert len(crowded.items) == DENSITIES[-1][1] - 1 and crowded.hidden == 38 and crowded.brief
    assert not day_cell(MONDAY, items, 5, "").brief


def test_a_crowded_day_and_live_box_say_how_many_more(client, login, week_shop, make_item):
    store, account = week_shop["store"], week_shop["account"]
    for n in range(13):
        make_item(store, account, day=MONDAY, slot=f"{8 + n:02d}:00", topic=f"周一第{n + 1}条")
    for n in range(14):
        make_item(store, account, day=MONDAY + timedelta(days=2), slot=f"{8 + n:02d}:30", kind=ContentKind.TRAILER,
                  topic=f"预告{n + 1}")
    login(week_shop["manager"])
    html = client.get(url_for("plans.print_store", store_id=store.id, week=WEEK)).get_data(as_text=True)
    assert "+4 more, until 20:00: see the week on the screen" in html       # 14 on Monday (13 + the fixture's)
    assert "周一第9条" in html and "周一第10条" not in html
    assert "+3 more: see the week on the screen" in html                    # 14 trailers, 11 lines in the box
    assert 'class="sheet-day d-dense"' in html and 'class="sheet-day d-roomy"' in html
    assert 'data-pages="1"' in html


def test_print_sizes_stay_readable_on_a_wall():
    """Times 10 pt, captions 9 pt, nothing under 8 pt in print (the phone screen's px sizes are not print)."""
    css = PRINT_CSS.read_text()
    printed = css.split("@media screen")[0]
    sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)pt", printed)]
    assert sizes and min(sizes) >= 8
    assert re.search(r"\.sheet-slot \{[^}]*font-size: 10pt", printed)
    assert re.search(r"\.item-caption \{[^}]*font-size: 9pt", printed)
