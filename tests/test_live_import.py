"""Session import: every row checked and reported by line, then all sessions with their trailers or none."""
import io
import re
from datetime import date, datetime, time, timedelta, timezone

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from matrix.accounts.models import AccountScope
from matrix.auth.models import Role
from matrix.extensions import db
from matrix.imports.readers import read_table
from matrix.imports.uploads import save_upload
from matrix.live import services
from matrix.live.models import TrailerRule, LiveSession
from matrix.live.session_import import preview_session_import
from matrix.live.settings import save_rule
from matrix.content.models import ContentItem, ContentKind
from matrix.weeks import week_string

DAY = (datetime.now(timezone.utc) + timedelta(days=10)).date()
HEADER = "平台,账号,日期,开始时间,结束时间,标题,主题,主播,预告规则\n"


@pytest.fixture
def hq(login, make_user):
    user = make_user(Role.OPERATOR)
    login(user)
    return user


@pytest.fixture
def chain(make_store, make_account):
    """Two Hangzhou stores (nearby: same city), one Shanghai store, and their Douyin accounts."""
    hz1 = make_store(code="HZ-001", name="杭州西湖店")
    hz2 = make_store(code="HZ-002", name="杭州滨江店", district="滨江区")
    sh = make_store(code="SH-001", name="上海徐汇店", city="上海", district="徐汇区")
    return {"hz1": make_account(hz1, handle="qimu_hz1"), "hz2": make_account(hz2, handle="qimu_hz2"),
            "sh": make_account(sh, handle="qimu_sh"), "stores": (hz1, hz2, sh)}


def row(handle, start="19:00", end="21:00", *, day=DAY, title="冬季新品直播", anchor="李娜", platform="抖音",
        theme="羽绒被", rule="") -> str:
    return f"{platform},{handle},{day.isoformat() if isinstance(day, date) else day},{start},{end},{title},{theme}," \
           f"{anchor},{rule}\n"


def upload(post, data: bytes, name="sessions.csv"):
    response = post("/live/import", {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return response.headers["Location"]


def confirm(client, post, preview_url: str, **extra):
    html = client.get(preview_url).get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([^"]+)"', html).group(1)
    return post(preview_url + "/confirm", {"fingerprint": fingerprint, **extra})


def sessions() -> int:
    return db.session.scalar(select(func.count()).select_from(LiveSession))


def trailers() -> int:
    return db.session.scalar(select(func.count()).select_from(ContentItem)
                             .where(ContentItem.kind == ContentKind.TRAILER))


def test_a_good_file_schedules_every_session_with_its_trailers(client, post, hq, chain):
    save_rule(None, {"name": "标准", "is_default": True, "topic": "预告",
                     "steps": [{"offset": o} for o in ("3d", "1d", "3h", "30m")]}, actor=hq)
    rule = save_rule(None, {"name": "只在开播前", "steps": [{"offset": "1d"}, {"offset": "2h"}], "topic": "预告"},
                     actor=hq)
    data = HEADER + row("@qimu_hz1", anchor="李娜") + row("qimu_sh", "20:00", "22:00", anchor="王芳", rule="只在开播前")
    url = upload(post, data.encode("utf-8"))
    preview = client.get(url).get_data(as_text=True)
    assert "qimu_hz1" in preview and "HZ-001 杭州西湖店" in preview
    response = confirm(client, post, url)
    # The list opens on the week of the imported sessions, not on this week.
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/live/?week={week_string(DAY)}")
    stored = db.session.scalars(select(LiveSession).order_by(LiveSession.starts_at)).all()
    assert [(s.account_id, s.anchor, s.rule_id) for s in stored] == [(chain["hz1"].id, "李娜", None),
                                                                    (chain["sh"].id, "王芳", rule.id)]
    assert stored[0].starts_at == datetime.combine(DAY, time(11, 0), tzinfo=timezone.utc)  # 19:00 in Shanghai
    assert host_trailers(stored[0]) == 4  # no rule in the file: the default rule's four
    assert host_trailers(stored[1]) == 2  # the file's rule: 1 day and 2 hours before
    with client.session_transaction() as s:
        flashes = [m for _c, m in s.get("_flashes", [])]
    assert any("2 live sessions scheduled with" in m for m in flashes), flashes
    assert client.get(url).status_code == 404  # the upload is gone once imported


def host_trailers(session: LiveSession) -> int:
    return db.session.scalar(select(func.count()).select_from(ContentItem).where(
        ContentItem.session_id == session.id, ContentItem.account_id == session.account_id))


def test_one_bad_row_writes_nothing_and_the_report_names_the_row_and_reason(client, post, hq, chain):
    # The rule form refuses a second rule of the same name; rules written before that rule can share one.
    db.session.add_all([TrailerRule(name=name, steps=[{"minutes": 1440}]) for name in ("重名", "重名 ")])
    db.session.commit()
    data = (HEADER + row("qimu_hz1") + row("qimu_sh", "25:00") + row("nobody")
            + row("qimu_hz2", day="2026-13-01", rule="没有这个规则")
            + row("qimu_hz2", day=DAY + timedelta(days=1), rule="重名", title=""))
    url = upload(post, data.encode("utf-8"))
    html = client.get(url).get_data(as_text=True)
    report = _rows(html)
    assert "OK" in report[2]
    assert "“25:00” is not a time" in report[3]
    assert "No account @nobody on 抖音." in report[4]
    assert "“2026-13-01” is not a date" in report[5] and "No trailer rule is named “没有这个规则”." in report[5]
    assert "Several trailer rules are named “重名”" in report[6] and "Title : This cell is empty." in report[6]
    assert "Every row must be free of errors" in html
    response = confirm(client, post, url)
    assert response.status_code == 422
    assert sessions() == 0 and trailers() == 0


def test_a_double_booking_inside_the_file_names_the_other_line(client, post, hq, chain):
    data = (HEADER + row("qimu_hz1", title="早场") + row("qimu_hz1", "20:30", "22:00", title="晚场", anchor="王芳")
            + row("qimu_sh", "10:00", "11:00", anchor="赵敏") + row("qimu_sh", "20:00", "21:00", anchor="赵敏"))
    html = client.get(upload(post, data.encode("utf-8"))).get_data(as_text=True)
    report = _rows(html)
    assert "The account @qimu_hz1 is already live in “晚场 · line 3”" in report[2]
    assert "The account @qimu_hz1 is already live in “早场 · line 2”" in report[3]
    assert "OK" in report[4]  # the anchor's morning session does not overlap the evening one
    assert "The anchor 赵敏 is already on" not in html
    assert sessions() == 0


def test_a_booking_clashing_with_a_stored_session_is_refused(client, post, hq, chain):
    stored = services.clean_session({"account_id": chain["sh"].id, "day": DAY, "start": "18:00", "end": "20:00",
                                     "title": "已排直播", "anchor": "Li Na"}, actor=hq)
    services.schedule_session(stored, actor=hq)
    data = HEADER + row("qimu_hz1", anchor="li na")  # the same anchor, written differently
    url = upload(post, data.encode("utf-8"))
    report = _rows(client.get(url).get_data(as_text=True))
    assert "The anchor Li Na is already on “已排直播” at SH-001 上海徐汇店" in report[2]
    assert confirm(client, post, url).status_code == 422
    assert sessions() == 1


def test_a_nearby_overlap_needs_acceptance(client, post, hq, chain):
    data = HEADER + row("qimu_hz1") + row("qimu_hz2", "20:00", "22:00", anchor="王芳")
    url = upload(post, data.encode("utf-8"))
    html = client.get(url).get_data(as_text=True)
    report = _rows(html)
    assert "HZ-002 杭州滨江店 is live at an overlapping time" in report[2] and "same city" in report[2]
    assert "HZ-001 杭州西湖店 is live at an overlapping time" in report[3]
    assert "I accept the overlaps" in html
    refused = confirm(client, post, url)
    assert refused.status_code == 422
    assert "accept the overlaps to schedule anyway" in refused.get_data(as_text=True)
    assert sessions() == 0 and trailers() == 0
    accepted = confirm(client, post, url, accept_nearby="y")
    assert accepted.status_code == 302
    assert sessions() == 2 and trailers() > 0


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_gbk_and_bom_csv_files_decode(client, post, hq, chain, encoding):
    data = HEADER + row("qimu_hz1", title="冬季新品·羽绒被", anchor="李娜")
    url = upload(post, data.encode(encoding))
    html = client.get(url).get_data(as_text=True)
    assert "冬季新品·羽绒被" in html and "李娜" in html and "badge-ok" in html
    assert confirm(client, post, url).status_code == 302
    assert db.session.scalar(select(LiveSession.title)) == "冬季新品·羽绒被"


def test_xlsx_with_english_headers_date_and_time_cells(client, post, hq, chain, make_account):
    brand_account = make_account(scope=AccountScope.BRAND, handle="qimu_brand", platform="kuaishou")
    book = Workbook()
    sheet = book.active
    sheet.append(["Platform", "Handle", "Date", "Start", "End", "Title", "Theme", "Anchor"])
    sheet.append(["douyin", "qimu_hz1", DAY, time(19, 0), time(21, 30), "Winter launch", "duvets", "Li Na"])
    sheet.append(["Kuaishou", "@QIMU_BRAND", datetime.combine(DAY, time()), "23:00:00", "01:00", "Late show", "",
                  "Wang Fang"])
    out = io.BytesIO()
    book.save(out)
    url = upload(post, out.getvalue(), "sessions.xlsx")
    html = client.get(url).get_data(as_text=True)
    assert html.count("badge-ok") == 2, _rows(html)
    assert confirm(client, post, url).status_code == 302
    late = db.session.scalar(select(LiveSession).where(LiveSession.account_id == brand_account.id))
    assert late.ends_at - late.starts_at == timedelta(hours=2)  # past midnight


@pytest.mark.parametrize("data, message", [
    (b"foo,bar\n1,2\n", "Missing: 平台、账号、日期、开始时间、结束时间、标题、主播"),
    (b"platform,handle,day,start,end,title\ndouyin,a,2026-11-28,19:00,20:00,t\n", "Missing: 主播"),
    (HEADER.encode(), "The file has a header row but no data rows."),
    (b"", "The file is empty."),
])
def test_a_file_that_cannot_be_imported_gets_a_clear_message(client, post, hq, data, message):
    response = post("/live/import", {"file": (io.BytesIO(data), "x.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_more_than_5000_rows_are_refused(client, post, hq):
    data = HEADER + row("a") * 5001
    response = post("/live/import", {"file": (io.BytesIO(data.encode()), "big.csv")},
                    content_type="multipart/form-data")
    assert response.status_code == 422
    assert "The file has 5001 rows; at most 5000 sessions are imported at once." in response.get_data(as_text=True)


def test_a_manager_may_only_book_their_own_stores_accounts(app, make_user, chain):
    manager = make_user(Role.STORE_MANAGER, stores=[chain["stores"][0]])
    table = read_table((HEADER + row("qimu_hz1") + row("qimu_sh", anchor="王芳")).encode())
    preview = preview_session_import(table, actor=manager)
    assert preview.rows[0].errors == []
    assert preview.rows[1].errors == [("handle", "The account @qimu_sh is not one of your stores' accounts.")]
    assert not preview.ok


def test_the_data_changing_after_the_preview_asks_again(client, post, hq, chain):
    url = upload(post, (HEADER + row("qimu_hz1")).encode())
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([^"]+)"',
                            client.get(url).get_data(as_text=True)).group(1)
    # A neighbour books the same evening: the row now has a nearby warning the preview did not show.
    services.schedule_session(services.clean_session({"account_id": chain["hz2"].id, "day": DAY, "start": "19:30",
                                                      "end": "20:00", "title": "插播", "anchor": "赵敏"}, actor=hq),
                              actor=hq)
    response = post(url + "/confirm", {"fingerprint": fingerprint, "accept_nearby": "y"})
    assert response.status_code == 409 and "changed since the preview" in response.get_data(as_text=True)
    assert sessions() == 1


def test_another_users_upload_and_other_kinds_are_404_and_discard_forgets(client, post, hq, make_user, chain):
    other = save_upload((HEADER + row("qimu_hz1")).encode(), filename="x.csv", kind="live_sessions",
                        user_id=make_user(Role.OPERATOR).id)
    assert client.get(f"/live/import/{other.token}").status_code == 404
    leads = save_upload((HEADER + row("qimu_hz1")).encode(), filename="x.csv", kind="leads", user_id=hq.id)
    assert client.get(f"/live/import/{leads.token}").status_code == 404
    url = upload(post, (HEADER + row("qimu_hz1")).encode())
    assert post(url + "/discard").status_code == 302
    assert client.get(url).status_code == 404 and sessions() == 0


def test_the_template_holds_the_columns(client, hq):
    response = client.get("/live/import/template?format=csv")
    assert response.status_code == 200
    assert response.data.decode("utf-8-sig").strip() == "平台,账号,日期,开始时间,结束时间,标题,主题,主播,预告规则"
    sheet = load_workbook(io.BytesIO(client.get("/live/import/template?format=xlsx").data)).active
    assert [c.value for c in sheet[1]][:3] == ["平台", "账号", "日期"]
    page = client.get("/live/import").get_data(as_text=True)
    assert "@qimu_hz_xihu" in page and "template?format=csv" in page


def _rows(html: str) -> dict[int, str]:
    """The report's rows by file line."""
    out = {}
    for body in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        line = re.search(r'class="num" data-label="Line">(\d+)<', body)
        if line:
            out[int(line.group(1))] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
    return out
