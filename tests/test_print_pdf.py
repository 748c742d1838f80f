"""Print the wall plan with headless Chromium to PDF and read it back: one A4 page per store.

The app runs on 127.0.0.1 in a thread; Chromium gets the signed session cookie of a
real sign-in through a small WSGI wrapper (it has no flag to set a cookie). The fullest week the
generator can make (samples.fullest_week: 12 slots, 84 items per account, four platforms, long
texts) must still print one page per store, and the page count the print page shows must agree.
"""
import re
import unicodedata
from datetime import timedelta

import pytest
from fixtures_browser import browser, print_to_pdf, signed_in_client, signed_in_cookie
from fixtures_plans import MONDAY, WEEK
from flask import url_for
from pypdf import PdfReader
from samples import fullest_week

from matrix.auth.models import Role
from matrix.content.models import ContentKind
from matrix.extensions import db
from matrix.plans.print_views import PRINT_STORES
from matrix.printjobs import services as print_jobs
from matrix.printjobs.models import JobStatus
from matrix.printjobs.worker import run_round

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


def shown_pages(client, path: str) -> int:
    """The page count the print page tells the user (its screen-only bar)."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'data-pages="(\d+)"', html)
    assert match, html[:500]
    return int(match.group(1))


def test_the_fullest_week_of_one_store_prints_on_one_page(app, login, live_server, tmp_path, platforms, make_store,
                                                          make_community, make_user):
    browser()
    store = make_store(code="HZ-018", name="栖木家居·杭州西湖文化广场旗舰体验店")
    make_community(store, name="西湖店福利一群", invite_link="https://work.weixin.qq.com/gm/3f5b2a")
    assert fullest_week([store], MONDAY) == 4 * 84
    client = signed_in_client(app, login, make_user(Role.STORE_MANAGER, stores=[store]))
    live_server["cookie"] = f"session={client.get_cookie('session', domain='localhost').value}"
    path = url_for("plans.print_store", store_id=store.id, week=WEEK, _external=False)
    reader = print_to_pdf(live_server["base"] + path, tmp_path)
    assert len(reader.pages) == shown_pages(client, path) == 1
    text = page_text(reader)
    assert re.search(r"38\D{0,12}21:30", text)            # "+38 more, until 21:30": 48 a day, 10 shown
    assert flat("西湖店福利一群") in text and flat("HZ-018") in text


def test_a_city_of_30_fullest_weeks_prints_one_page_per_store_in_the_browser_and_as_one_pdf(
        app, login, live_server, tmp_path, monkeypatch, platforms, make_store, make_community, make_user):
    """The city print page (the browser prints it) and the print worker's PDF (cover first) agree."""
    browser()
    stores = [make_store(code=f"NJ-{n:03d}", name=f"栖木家居·南京第{n}店", city="南京", district="玄武区")
              for n in range(30, 0, -1)]
    for store in stores[::3]:
        make_community(store, invite_link=f"https://work.weixin.qq.com/gm/nj{store.code}")
    fullest_week(stores, MONDAY, caption_chars=600)
    client = signed_in_client(app, login, make_user(Role.OPERATOR))
    live_server["cookie"] = f"session={client.get_cookie('session', domain='localhost').value}"
    path = url_for("plans.print_city", city=stores[0].city_code, week=WEEK, _external=False)
    # The browser's city print holds PRINT_STORES stores a document (issue 12); the rest are on its next page.
    reader = print_to_pdf(live_server["base"] + path, tmp_path)
    assert len(reader.pages) == shown_pages(client, path) == PRINT_STORES
    assert shown_pages(client, path + "&page=2") == 30 - PRINT_STORES
    in_order = sorted(stores, key=lambda s: s.code)
    for n in (0, PRINT_STORES // 2, PRINT_STORES - 1):  # a full page's text takes 0.2 s: a few tell the order
        assert flat(in_order[n].name) in flat(reader.pages[n].extract_text())

    monkeypatch.setitem(app.config, "PRINT_JOB_DIR", str(tmp_path / "jobs"))
    monkeypatch.setitem(app.config, "PRINT_JOB_BATCH", 15)   # two batches and the cover, two Chromiums at once
    response = client.post(url_for("plans.print_pdf"), data={"city": stores[0].city_code, "week": WEEK,
                                                             "csrf_token": csrf(client)})
    job_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    assert run_round("test-worker", echo=lambda _line: None)
    job = db.session.get(print_jobs.PrintJob, job_id)
    db.session.refresh(job)
    assert job.status == JobStatus.DONE, job.error
    pdf = PdfReader(print_jobs.job_file(job))
    assert len(pdf.pages) == job.page_count == 31                        # a cover and one page per store
    assert flat("南京") in flat(pdf.pages[0].extract_text()) and flat("NJ-001–NJ-030") in flat(
        pdf.pages[0].extract_text())
    for n in SAMPLE:
        assert flat(in_order[n].name) in flat(pdf.pages[n + 1].extract_text())
    download = client.get(url_for("prints.download", job_id=job.id))
    assert download.status_code == 200 and download.data.startswith(b"%PDF")


SAMPLE = (0, 14, 29)


def csrf(client) -> str:
    html = client.get(url_for("plans.index")).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_missing_browser_policy(monkeypatch):
    """Without Chromium the test skips, unless CI demands the browser."""
    monkeypatch.setattr("fixtures_browser.CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("MATRIX_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception):
        browser()
    monkeypatch.setenv("MATRIX_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception):
        browser()
