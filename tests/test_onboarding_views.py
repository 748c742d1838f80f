"""The first hour's screens: the setup checklist, progress, naming, gap sheets, handing over, the store's task list."""
import io
import re

import pytest
from openpyxl import load_workbook
from samples import png
from sqlalchemy import select

from matrix.accounts.models import Account
from matrix.auth.models import Role
from matrix.brands.models import Brand
from matrix.communities.models import Community
from matrix.extensions import db
from matrix.onboarding.models import Handover


@pytest.fixture
def hq(make_user, login):
    user = make_user(Role.ADMIN)
    login(user)
    return user


@pytest.fixture
def stores(app, platforms, make_store):
    brand = Brand(name="林氏家居")
    db.session.add(brand)
    db.session.commit()
    return [make_store(code="HZ-001", name="杭州西湖店", brand_id=brand.id),
            make_store(code="HZ-002", name="杭州滨江店", district="滨江区", brand_id=brand.id),
            make_store(code="SH-001", name="上海徐汇店", city="上海", district="徐汇区", brand_id=brand.id)]


def steps(html: str) -> dict[str, bool]:
    return {key: state == "done" for state, key in re.findall(r'<li class="(done|todo)" id="step-(\w+)"', html)}


def test_an_empty_install_lands_on_the_checklist(client, hq):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/onboarding/")
    html = client.get("/onboarding/").get_data(as_text=True)
    assert steps(html) == dict.fromkeys(["brand", "stores", "accounts", "communities", "campaign", "print"], False)
    assert "/brands/new" in html and "/imports/" in html


def test_steps_turn_done_from_the_data(client, hq, post, stores, make_account, make_community):
    for store in stores:
        for code in ("douyin", "kuaishou", "channels", "xiaohongshu"):
            make_account(store, code)
        make_community(store, invite_link="https://work.weixin.qq.com/g/x")
    html = client.get("/onboarding/").get_data(as_text=True)
    assert steps(html) == {"brand": True, "stores": True, "accounts": True, "communities": True, "campaign": False,
                           "print": False}
    assert "3 / 3" in html
    assert post("/onboarding/printed").status_code == 302
    assert steps(client.get("/onboarding/").get_data(as_text=True))["print"]


def test_progress_by_city_and_the_stores_still_missing(client, hq, stores, make_account, make_community):
    for code in ("douyin", "kuaishou", "channels", "xiaohongshu"):
        make_account(stores[0], code)
    make_community(stores[0], invite_link="https://work.weixin.qq.com/g/x")
    html = client.get("/onboarding/").get_data(as_text=True)
    assert "杭州市" in html and "(50%)" in html and "上海市" in html and "(0%)" in html
    listed = client.get("/onboarding/stores?city=330100").get_data(as_text=True)
    assert "HZ-002" in listed and "HZ-001" not in listed and "SH-001" not in listed


def test_handing_over_a_city(client, hq, post, stores):
    response = post("/onboarding/handover", {"city": "330100", "everyone": "1", "note": "周五前"})
    assert response.status_code == 302
    assert {h.store_id for h in db.session.scalars(select(Handover))} == {stores[0].id, stores[1].id}
    post("/onboarding/handover", {"store_ids": [str(stores[2].id)], "city": ""})
    assert db.session.query(Handover).count() == 3


def test_naming_rules_page_checks_and_previews(client, hq, post, stores):
    bad = post("/onboarding/naming", {"account_name_rule": "{brand}{owner}", "group_name_rule": "{store}{n}群"})
    assert bad.status_code == 422 and "{owner}" in bad.get_data(as_text=True)
    assert post("/onboarding/naming", {"account_name_rule": "{brand}·{city}{district}店",
                                       "group_name_rule": "{code}·{n}群"}).status_code == 302
    html = client.get("/onboarding/naming").get_data(as_text=True)
    assert "林氏家居·杭州西湖店" in html and "HZ-001·1群" in html


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_gap_sheets_download(client, hq, stores, fmt):
    response = client.get(f"/onboarding/gaps?kind=accounts&format={fmt}&city=310100")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    if fmt == "xlsx":
        rows = list(load_workbook(io.BytesIO(response.data)).worksheets[0].iter_rows(values_only=True))
    else:
        rows = [line.split(",") for line in response.data.decode("utf-8-sig").splitlines()]
    assert rows[0][:2] == ("待补", "门店编码") if fmt == "xlsx" else rows[0][:2] == ["待补", "门店编码"]
    assert len(rows) == 1 + 4 and all(row[1] == "SH-001" for row in rows[1:])
    assert client.get("/onboarding/gaps?kind=users&format=csv").status_code == 404


def test_a_manager_fills_their_store_on_a_phone(client, login, post, make_user, stores):
    manager = make_user(Role.STORE_MANAGER, stores=[stores[1]])
    login(manager)
    first = client.get("/onboarding/mine")
    assert first.status_code == 302 and first.headers["Location"].endswith(f"/onboarding/stores/{stores[1].id}")
    html = client.get(first.headers["Location"]).get_data(as_text=True)
    assert html.count('action="/onboarding/stores/%d/accounts"' % stores[1].id) == 4
    assert 'value="林氏家居·杭州滨江店"' in html and 'value="杭州滨江店·1群"' in html
    platform_id = re.search(r'name="platform_id" value="(\d+)"', html).group(1)
    refused = post(f"/onboarding/stores/{stores[1].id}/accounts", {"platform_id": platform_id, "handle": "bad handle!"})
    assert refused.status_code == 422 and "Handle" in refused.get_data(as_text=True)
    saved = post(f"/onboarding/stores/{stores[1].id}/accounts", {"platform_id": platform_id, "handle": "@binjiang",
                                                                   "display_name": "林氏家居·杭州滨江店"})
    assert saved.status_code == 302
    account = db.session.scalar(select(Account).where(Account.handle == "binjiang"))
    assert account.store_id == stores[1].id
    group = post(f"/onboarding/stores/{stores[1].id}/groups",
                 {"name": "杭州滨江店·1群", "qr_upload": (io.BytesIO(png()), "qr.png")},
                 content_type="multipart/form-data")
    assert group.status_code == 302
    assert db.session.scalar(select(Community).where(Community.store_id == stores[1].id)).qr_mime == "image/png"
    html = client.get(f"/onboarding/stores/{stores[1].id}").get_data(as_text=True)
    assert html.count('action="/onboarding/stores/%d/accounts"' % stores[1].id) == 3 and "QR code image" not in html


def test_a_manager_cannot_reach_another_stores_list_or_hq_pages(client, login, post, make_user, stores):
    login(make_user(Role.STORE_MANAGER, stores=[stores[1]]))
    assert client.get(f"/onboarding/stores/{stores[0].id}").status_code == 404
    assert post(f"/onboarding/stores/{stores[0].id}/groups", {"name": "x", "invite_link": "https://a.b/c"}).status_code == 404
    for url in ("/onboarding/", "/onboarding/stores", "/onboarding/naming", "/onboarding/qr",
                "/onboarding/gaps?kind=accounts&format=csv"):
        assert client.get(url).status_code == 403, url
    assert post("/onboarding/handover", {"everyone": "1"}).status_code == 403


def test_a_group_of_another_store_cannot_be_filled_through_this_one(client, hq, post, stores, make_community):
    other = make_community(stores[0], name="西湖1群")
    response = post(f"/onboarding/stores/{stores[1].id}/groups", {"community_id": str(other.id), "name": "x",
                                                                  "invite_link": "https://work.weixin.qq.com/g/1"})
    assert response.status_code == 404


def test_qr_upload_page_reports_each_file(client, hq, post, stores, make_community):
    make_community(stores[0], name="西湖1群")
    response = post("/onboarding/qr", {"files": [(io.BytesIO(png()), "HZ-001.png"), (io.BytesIO(b"x"), "HZ-002.png")]},
                    content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Saved as the QR code of 西湖1群." in html and "not a PNG" in html
    assert post("/onboarding/qr", {}, content_type="multipart/form-data").status_code == 422


def test_empty_lists_say_what_to_do_first_not_blame_the_filters(client, hq, make_store, platforms):
    for url in ("/stores/", "/accounts/", "/communities/"):
        html = client.get(url).get_data(as_text=True)
        assert "No stores yet." in html and 'href="/imports/"' in html and "match these filters" not in html, url
    make_store(code="HZ-001")
    accounts = client.get("/accounts/").get_data(as_text=True)
    assert "No accounts yet." in accounts and "/onboarding/gaps?kind=accounts" in accounts
    groups = client.get("/communities/").get_data(as_text=True)
    assert "No groups yet." in groups and "/onboarding/qr" in groups
    assert "No leads yet." in client.get("/leads/").get_data(as_text=True)
    filtered = client.get("/accounts/?q=nothing-like-this").get_data(as_text=True)
    assert "No accounts match these filters." in filtered and "Clear the filters" in filtered
    assert "No accounts yet." not in filtered


def test_a_manager_without_a_store_is_told_to_ask_headquarters(client, login, make_user):
    login(make_user(Role.STORE_MANAGER))
    html = client.get("/stores/").get_data(as_text=True)
    assert "No store is assigned to you yet" in html and "/imports/" not in html


def test_a_manager_whose_store_was_handed_over_is_told_on_the_home_page(client, login, make_user, stores):
    from matrix.onboarding.handover import hand_over, open_handover_tasks

    hand_over([stores[1].id], actor=make_user(Role.OPERATOR))
    manager = make_user(Role.STORE_MANAGER, stores=[stores[1]])
    other = make_user(Role.STORE_MANAGER, stores=[stores[0]])
    assert open_handover_tasks(other) == 0  # not handed over: no banner
    login(manager)
    html = client.get("/", follow_redirects=True).get_data(as_text=True)  # a manager's home page is Today
    assert "fill in 5 things" in html and 'href="/onboarding/mine"' in html  # 4 accounts and a group
