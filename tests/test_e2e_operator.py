"""End to end in Chromium, HQ's week: import stores (a bad row, fixed), the matrix, a campaign's week, a live session
whose trailers reach a sibling store's plan, and that plan printed on one A4 page."""
import csv
import io
import re
import unicodedata
from datetime import date, timedelta

import pytest
from fixtures_e2e import SCREENSHOTS
from pypdf import PdfReader
from sqlalchemy import select

from matrix.auth.models import Role
from matrix.brands.models import Brand
from matrix.extensions import db
from matrix.stores.models import Store
from matrix.weeks import current_week, next_week, today, week_string

pytestmark = pytest.mark.slow

STORE_HEADER = ["门店编码", "门店名称", "城市", "区县", "详细地址", "经度", "纬度", "坐标系", "状态"]
STORES = [["HZ-101", "栖木家居·杭州西湖文化广场店", "杭州", "西湖区", "文三路 1 号", "120.1551", "30.2741", "GCJ-02", "营业"],
          ["HZ-102", "栖木家居·杭州滨江星光店", "杭州市", "滨江区", "江南大道 2 号", "120.2119", "30.2084", "GCJ-02", "营业"],
          ["HZ-103", "栖木家居·杭州拱墅运河店", "杭州", "拱墅区", "湖墅南路 3 号", "120.1431", "30.2960", "GCJ-02", "营业"],
          ["SH-201", "栖木家居·上海徐汇滨江店", "上海", "徐汇区", "龙腾大道 5 号", "121.4610", "31.1780", "GCJ-02", "营业"],
          ["SH-202", "栖木家居·上海静安大悦城店", "上海市", "静安区", "西藏北路 6 号", "121.4720", "31.2460", "GCJ-02", "筹备"]]
BAD_LON = "120.1431E"  # a unit typed into the cell: the row is refused, the others wait
ACCOUNT_HEADER = ["平台", "类型", "门店编码", "品牌", "账号", "昵称", "粉丝数", "状态"]
ACCOUNTS = ([["抖音", "门店号", code, "", f"qimu_{code.lower().replace('-', '')}", f"栖木{code}", str(800 + 700 * n), "正常"]
             for n, (code, *_rest) in enumerate(STORES[:4])]
            + [["小红书", "门店号", code, "", f"qimu_xhs_{code.lower().replace('-', '')}", f"栖木{code}", "15600", "正常"]
               for code in ("HZ-101", "HZ-102", "SH-201")]
            + [["视频号", "门店号", "HZ-101", "", "qimu_sph_hz101", "栖木视频号西湖", "430", "孵化中"],
               ["抖音", "品牌号", "", "栖木家居", "qimu_official", "栖木家居官方", "286000", "正常"]])
GROUP_HEADER = ["门店编码", "群名称", "邀请链接", "群人数"]
GROUPS = [["HZ-101", "西湖店福利1群", "https://work.weixin.qq.com/gm/hz101a", "186"],
          ["HZ-102", "滨江店福利1群", "https://work.weixin.qq.com/gm/hz102a", "73"],
          ["SH-201", "徐汇店福利1群", "https://work.weixin.qq.com/gm/sh201a", "120"]]


def sheet(rows: list[list[str]], encoding: str = "gbk") -> bytes:
    """A CSV as Excel on a Chinese Windows saves it."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.fixture
def hq(make_user, platforms):
    db.session.add(Brand(name="栖木家居"))
    db.session.commit()
    user = make_user(Role.OPERATOR, username="hq_li", locale="zh")
    user.display_name = "李敏"
    db.session.commit()
    return user


def upload(tab, kind: str, name: str, data: bytes) -> str:
    """Upload a sheet on the import page; returns the preview's text."""
    tab.visit("/imports/")
    tab.page.select_option("select[name=kind]", kind)
    tab.page.set_input_files("input[name=file]", {"name": name, "mimeType": "text/csv", "buffer": data})
    with tab.page.expect_navigation():
        tab.page.click("form[enctype='multipart/form-data'] button.primary")
    tab.arrived()
    assert re.search(r"/imports/[^/]+$", tab.page.url.split("?")[0]), tab.page.url
    return tab.text()


def confirm_import(tab) -> None:
    button = tab.page.locator("form[action$='/confirm'] button.primary")
    assert button.is_enabled()
    with tab.page.expect_navigation():
        button.click()
    tab.arrived()


def test_operator_imports_plans_books_and_prints(browse, hq):
    tab = browse(hq)
    bad = [row if row[0] != "HZ-103" else [*row[:5], BAD_LON, *row[6:]] for row in STORES]
    preview = upload(tab, "stores", "门店.csv", sheet([STORE_HEADER, *bad]))
    assert tab.page.locator(".badge-error").count() >= 1 and "HZ-103" in preview and BAD_LON in preview
    assert tab.page.locator("form[action$='/confirm'] button.primary").is_disabled()
    tab.shoot("operator-import-error")
    assert db.session.scalar(select(Store).limit(1)) is None

    upload(tab, "stores", "门店.csv", sheet([STORE_HEADER, *STORES]))
    assert tab.page.locator(".badge-error").count() == 0
    confirm_import(tab)
    upload(tab, "accounts", "账号.csv", sheet([ACCOUNT_HEADER, *ACCOUNTS]))
    confirm_import(tab)
    upload(tab, "communities", "社群.csv", sheet([GROUP_HEADER, *GROUPS], "utf-8-sig"))
    confirm_import(tab)

    tab.visit("/matrix")
    matrix = tab.text()
    for code, name, *_rest in STORES:
        assert code in matrix and name in matrix
    tab.shoot("operator-matrix")

    week = week_string(next_week(current_week()))
    plan_week(tab, week)
    session_title = "冬季新品直播"
    book_session(tab, handle="qimu_hz101", day=iso_day(week, 4), title=session_title)

    stores = {store.code: store.id for store in db.session.scalars(select(Store))}
    tab.visit(f"/plans/{stores['HZ-102']}/{week}")  # a sibling in the same city posts the trailers too
    assert f"直播预告：{session_title}" in tab.text() and "@qimu_hz102" in tab.text()
    tab.shoot("operator-sibling-week")
    print_one_page(tab, f"/plans/{stores['HZ-102']}/{week}/print", session_title)
    tab.visit(f"/plans/{stores['SH-201']}/{week}")  # Shanghai's viewers are not Hangzhou's
    assert session_title not in tab.text() and "新品探店" in tab.text()


def iso_day(week: str, weekday: int) -> str:
    """The date of `weekday` (0 Monday) of an ISO week such as 2026-W50."""
    return (date.fromisocalendar(int(week[:4]), int(week[-2:]), 1) + timedelta(days=weekday)).isoformat()


def plan_week(tab, week: str) -> None:
    """A campaign for every store, one template, and the week generated."""
    tab.visit("/campaigns/new")
    first = today()
    tab.page.fill("input[name=name]", "冬季焕新季")
    tab.page.fill("input[name=starts_on]", first.isoformat())
    tab.page.fill("input[name=ends_on]", (first + timedelta(days=40)).isoformat())
    tab.page.fill("input[name=short_video]", "3")
    tab.page.fill("input[name=slots]", "12:00, 18:00")
    submit(tab, "main form button.primary")
    assert re.search(r"/campaigns/\d+$", tab.page.url), tab.page.url
    tab.page.click("a[href$='/templates/new']")
    tab.arrived()
    tab.page.fill("input[name=topic]", "{{ store_name }}新品探店")
    tab.page.fill("textarea[name=caption]", "{{ city }}{{ district }}的朋友，周末来店里看看冬季新品！")
    tab.page.fill("textarea[name=script]", "1. 门头远景\n2. 新品特写\n3. 店员口播到店福利")
    submit(tab, "main form button.primary")
    tab.page.select_option("form[action$='/generate'] select[name=week]", week)
    submit(tab, "form[action$='/generate'] button.primary")
    assert tab.page.locator(".flash-success").count() == 1, tab.text()


def book_session(tab, *, handle: str, day: str, title: str) -> None:
    """Book a live session on a store's account through the form; its trailers go on the plans."""
    tab.visit("/live/new")
    option = tab.page.locator("select[name=account_id] option", has_text=f"@{handle}")
    tab.page.select_option("select[name=account_id]", option.get_attribute("value"))
    tab.page.fill("input[name=day]", day)
    tab.page.fill("input[name=start]", "19:00")
    tab.page.fill("input[name=end]", "21:00")
    tab.page.fill("input[name=title]", title)
    tab.page.fill("input[name=anchor]", "李娜")
    submit(tab, "main form button.primary:not(.visually-hidden)")
    assert re.search(r"/live/\d+$", tab.page.url), tab.text()


def print_one_page(tab, path: str, expected: str) -> None:
    """The store's printable week, printed by Chromium: exactly one A4 landscape page."""
    tab.visit(path)
    data = tab.page.pdf(prefer_css_page_size=True, print_background=True)
    (SCREENSHOTS / "operator-print.pdf").write_bytes(data)
    pdf = PdfReader(io.BytesIO(data))
    assert len(pdf.pages) == 1
    assert expected in unicodedata.normalize("NFKC", pdf.pages[0].extract_text()).replace("\n", "")
    width, height = (float(v) for v in pdf.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (842, 595)  # A4 landscape in points


def submit(tab, selector: str) -> None:
    with tab.page.expect_navigation():
        tab.page.click(selector)
    tab.arrived()
