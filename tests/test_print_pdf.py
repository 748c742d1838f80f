"""Print the wall plan with headless Chromium to PDF and read it back: one A4 page per store.

The app runs on 127.0.0.1 in a thread; Chromium gets the signed session cookie of a
real sign-in through a small WSGI wrapper (it has no flag to set a cookie).
"""
import unicodedata
from datetime import timedelta

import pytest
from fixtures_browser import browser, print_to_pdf, signed_in_cookie
from fixtures_plans import MONDAY, WEEK
from flask import url_for
from pypdf import PdfReader

from matrix.auth.models import Role
from matrix.content.models import ContentKind

pytestmark = pytest.mark.slow

A4_LANDSCAPE = (841.89, 595.28)      # points
CAPTIONS = [
    "冬季焕新季开启！本周到店即可体验全新布艺沙发，门店专属优惠限时三天，关注账号私信领取到店礼，先到先得哦～",
    "店长带你逛门店：从客厅到卧室一站配齐，搭配师现场出方案，周末还有亲子手作活动，欢迎带上家人一起来玩！",
]
SHOTS = "1. 门头远景推近，带出门店招牌\n2. 店员介绍新品细节，特写面料与做工\n3. 顾客体验坐感，结尾口播到店福利"


def typical_week(store, accounts, make_item):
    """Two accounts, fourteen items with long Chinese captions and three-line shot lists."""
    for n in range(7):
        day = MONDAY + timedelta(days=n)
        for i, (account, slot) in enumerate(zip(accounts, ("12:00", "18:00"))):
            kind = ContentKind.TRAILER if (n, i) == (4, 1) else ContentKind.SHORT_VIDEO
            make_item(store, account, day=day, slot=slot, kind=kind, topic=f"第{n + 1}天 · 新品探店{i + 1}",
                      caption=CAPTIONS[i] + f"#{n}{i}", script=SHOTS, hashtags="#杭州探店 #家居")


def flat(text: str) -> str:
    """A page's text without line breaks or spaces, NFKC-normalised: some CJK fonts map 口 to the radical ⼝."""
    return unicodedata.normalize("NFKC", text or "").replace("\n", "").replace(" ", "")


def page_text(reader: PdfReader) -> str:
    return "".join(flat(page.extract_text()) for page in reader.pages)


def test_one_store_week_fits_on_one_a4_landscape_page(app, login, live_server, tmp_path, make_store, make_account,
                                                      make_community, make_item, make_user):
    browser()
    store = make_store(code="HZ-018", name="杭州西湖文化广场店")
    accounts = [make_account(store=store, platform="douyin", handle="hz_xihu_dy"),
                make_account(store=store, platform="xiaohongshu", handle="hz_xihu_xhs")]
    make_community(store, name="西湖店福利一群", invite_link="https://work.weixin.qq.com/gm/3f5b2a")
    typical_week(store, accounts, make_item)
    live_server["cookie"] = signed_in_cookie(app, login, make_user(Role.STORE_MANAGER, stores=[store]))
    path = url_for("plans.print_store", store_id=store.id, week=WEEK, _external=False)
    reader = print_to_pdf(live_server["base"] + path, tmp_path)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4_LANDSCAPE, abs=2)
    text = page_text(reader)
    assert flat("杭州西湖文化广场店") in text
    assert flat(CAPTIONS[0][:20]) in text and flat("西湖店福利一群") in text


def test_city_print_has_one_page_per_store(app, login, live_server, tmp_path, make_store, make_account,
                                           make_item, make_user):
    browser()
    stores = [make_store(code=f"NJ-00{n}", name=f"南京{name}店", city="南京", district="玄武区")
              for n, name in enumerate(("新街口", "夫子庙", "河西"), start=1)]
    for store in stores:
        typical_week(store, [make_account(store=store, platform="douyin"), make_account(store=store,
                                                                                        platform="kuaishou")],
                     make_item)
    live_server["cookie"] = signed_in_cookie(app, login, make_user(Role.OPERATOR))
    path = url_for("plans.print_city", city=stores[0].city_code, week=WEEK, _external=False)
    reader = print_to_pdf(live_server["base"] + path, tmp_path)
    assert len(reader.pages) == 3
    for page, store in zip(reader.pages, stores):
        assert flat(store.name) in flat(page.extract_text())


def test_missing_browser_policy(monkeypatch):
    """Without Chromium the test skips, unless CI demands the browser."""
    monkeypatch.setattr("fixtures_browser.CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("MATRIX_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception):
        browser()
    monkeypatch.setenv("MATRIX_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception):
        browser()
