"""The audit log page: who may see it, filters, time zone, links and redaction."""
from datetime import datetime, timezone

import pytest
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from sqlalchemy import select

from matrix.audit import services as audit
from matrix.audit.models import AuditEntry
from matrix.auth.models import Role, User
from matrix.extensions import db


def add_entry(actor, action="update", entity="store", at=None, **extra) -> AuditEntry:
    entry = audit.record(actor, action, entity, **extra)
    if at:
        entry.at = at
    db.session.commit()
    return entry


def rows(html: str) -> list[str]:
    """The entries' rows of the log table, each starting at its time cell."""
    return html.split('<td data-label="Time">')[1:]


@pytest.fixture
def operator(make_user, login):
    user = make_user(Role.OPERATOR, username="op_li")
    user.display_name = "Li Operator"
    db.session.commit()
    login(user)
    return user


def test_store_manager_cannot_see_the_audit_log(client, make_user, make_store, login):
    store = make_store()
    manager = make_user(Role.STORE_MANAGER, stores=[store])
    entry = add_entry(manager, entity="store", entity_id=store.id, store_id=store.id, summary="mine")
    login(manager)
    assert client.get("/audit/").status_code == 403
    assert client.get(f"/audit/{entry.id}").status_code == 403


def test_audit_needs_sign_in(client):
    assert client.get("/audit/").status_code == 302


def test_user_changes_show_on_the_audit_log(client, make_user, make_store, login, post):
    make_store(code="HZ-001")
    admin = make_user(Role.ADMIN, username="boss")
    login(admin)
    response = post("/users/new", {"username": "mgr_new", "display_name": "New manager", "role": "store_manager",
                                   "active": "y", "password": "a-long-password", "store_codes": "HZ-001"})
    assert response.status_code == 302
    created = db.session.scalar(select(User).where(User.username == "mgr_new"))
    post(f"/users/{created.id}/edit", {"username": "mgr_new", "display_name": "Renamed manager",
                                       "role": "store_manager", "active": "y", "store_codes": "HZ-001"})
    html = client.get("/audit/?entity=user").get_data(as_text=True)
    changes = rows(html)
    assert len(changes) == 3  # newest first: the update, the creation, then boss's own sign-in
    assert "Renamed manager" in changes[0] and "New manager" in changes[0]
    assert "HZ-001" in changes[1] and "mgr_new" in changes[1]
    assert f'href="/users/{created.id}/edit"' in changes[0]  # admins get a link to the user
    assert "a-long-password" not in html


def test_newest_first_with_chain_time(client, operator):
    add_entry(operator, summary="older", at=datetime(2024, 5, 31, 8, 0, tzinfo=timezone.utc))
    add_entry(operator, summary="newer", at=datetime(2024, 5, 31, 17, 30, tzinfo=timezone.utc))
    html = client.get("/audit/?entity=store").get_data(as_text=True)
    found = rows(html)
    assert "newer" in found[0] and "older" in found[1]
    assert "2024-06-01 01:30" in found[0]  # 17:30 UTC is 01:30 the next day in Shanghai
    assert "Li Operator" in found[0]


def test_date_range_means_days_in_the_chain_time_zone(client, operator):
    add_entry(operator, summary="late-night", at=datetime(2024, 5, 31, 17, 30, tzinfo=timezone.utc))
    assert "late-night" in client.get("/audit/?date_from=2024-06-01&date_to=2024-06-01").get_data(as_text=True)
    assert "late-night" not in client.get("/audit/?date_to=2024-05-31").get_data(as_text=True)


def test_bad_date_is_reported(client, operator):
    response = client.get("/audit/?date_from=31.05.2024")
    assert response.status_code == 200
    assert "is not a date" in response.get_data(as_text=True)


def test_filters_by_actor_entity_action_and_store(client, operator, make_user, make_store):
    store = make_store(code="HZ-050")
    other = make_user(Role.ADMIN, username="zhang_admin")
    add_entry(operator, "update", "store", entity_id=store.id, store_id=store.id, summary="store-change")
    add_entry(other, "create", "account", summary="account-made")
    add_entry(other, "delete", "community", store_id=store.id, summary="group-gone")

    def shown(query: str) -> str:
        return " ".join(rows(client.get("/audit/?" + query).get_data(as_text=True)))

    assert "account-made" in shown("actor=zhang") and "store-change" not in shown("actor=zhang")
    assert "store-change" in shown("actor=Li+Oper")
    assert "account-made" in shown("entity=account") and "group-gone" not in shown("entity=account")
    assert "group-gone" in shown("action=delete") and "store-change" not in shown("action=delete")
    by_store = shown("store=HZ-050")
    assert "store-change" in by_store and "group-gone" in by_store and "account-made" not in by_store
    assert "HZ-050" in by_store


def test_unknown_store_code_shows_nothing(client, operator):
    add_entry(operator, summary="without-store")
    response = client.get("/audit/?store=NOPE-1")
    html = response.get_data(as_text=True)
    assert "No store has the code NOPE-1." in html and "without-store" not in html


def test_links_only_to_objects_that_still_exist(app, client, operator, make_store):
    store = make_store(code="HZ-060")
    add_entry(operator, entity="store", entity_id=store.id, store_id=store.id, summary="kept")
    add_entry(operator, entity="store", entity_id=999999, summary="gone")
    add_entry(operator, entity="user", entity_id=operator.id, summary="user-row")
    found = rows(client.get("/audit/").get_data(as_text=True))
    by_summary = {s: next(r for r in found if s in r) for s in ("kept", "gone", "user-row")}
    if "stores.detail" in app.view_functions:
        assert f'href="/stores/{store.id}"' in by_summary["kept"]
    assert "/stores/999999" not in by_summary["gone"]
    assert "/users/" not in by_summary["user-row"]  # operators cannot open the user form


def test_secrets_stay_redacted(client, operator, make_store):
    store = make_store()
    add_entry(operator, entity="community", store_id=store.id, summary="robot set",
              changes={"robot_webhook_url": [None, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=TOPSECRET9876"]})
    html = client.get("/audit/").get_data(as_text=True)
    assert "robot set" in html and "TOPSECRET" not in html


def test_pages_and_entry_detail(app, client, operator):
    for n in range(app.config["PAGE_SIZE"] + 3):
        audit.record(operator, "update", "store", summary=f"entry-{n:03d}", changes={"name": [f"a{n}", f"b{n}"]})
    db.session.commit()
    first = client.get("/audit/?entity=store").get_data(as_text=True)
    assert len(rows(first)) == app.config["PAGE_SIZE"]
    second = client.get("/audit/?entity=store&page=2").get_data(as_text=True)
    assert len(rows(second)) == 3 and "entry-000" in second
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.summary == "entry-000"))
    detail = client.get(f"/audit/{entry.id}")
    assert detail.status_code == 200
    assert "a0" in detail.get_data(as_text=True) and "b0" in detail.get_data(as_text=True)
    assert client.get("/audit/999999").status_code == 404


def test_changes_read_as_labelled_old_and_new_values_in_chinese_text(client, operator, make_store):
    store = make_store(code="HZ-001", name="西湖店")
    add_entry(operator, "update", "store", entity_id=store.id, store_id=store.id, summary="HZ-001",
              changes={"name": ["西湖店", "西湖旗舰店"], "status": ["open", "closed_temporarily"],
                       "city_code": ["330100", "310100"], "geocode_status": ["manual", "imported"]})
    html = client.get("/audit/").get_data(as_text=True)
    assert "西湖旗舰店" in html and "\\u" not in html  # Chinese text as text, never \\u escapes
    assert "<th>Name</th>" in html and "<th>Status</th>" in html and "<th>name</th>" not in html
    assert "Closed temporarily" in html and "closed_temporarily" not in html
    assert "上海市" in html and "310100" not in html
    assert "From the imported sheet" in html


def test_snapshots_before_and_after_show_only_what_changed(client, operator):
    add_entry(operator, "update", "live_session", summary="直播",
              changes={"before": {"title": "冬季新品", "starts_at": "2026-11-28 11:00:00+00:00", "anchor": "李娜"},
                       "after": {"title": "冬季新品直播", "starts_at": "2026-11-28 12:00:00+00:00", "anchor": "李娜"},
                       "trailers": {"added": 2, "moved": 1}})
    html = client.get("/audit/").get_data(as_text=True)
    assert "2026-11-28 19:00" in html and "2026-11-28 20:00" in html  # UTC stored, the chain's zone shown
    assert "+00:00" not in html and "{&#34;" not in html and '{"' not in html
    assert "李娜" not in html  # unchanged fields are not listed
    assert "<th>Trailers</th>" in html and "<th>Added</th>" in html


def test_summaries_are_in_the_readers_language(app, client, operator, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "zh")  # a Chinese chain
    entry = audit.record(operator, "export", "lead", summary=_l("%(n)d leads exported.", n=3))
    db.session.commit()
    assert entry.message == "%(n)d leads exported." and entry.params == {"n": 3}
    assert entry.summary == "已导出 3 条线索。"  # stored in the chain's language
    operator.locale = "en"
    db.session.commit()
    assert "3 leads exported." in client.get("/audit/").get_data(as_text=True)  # this reader reads English
    operator.locale = "zh"
    db.session.commit()
    refresh()  # the tests' requests share one app context, where Flask-Babel keeps the locale it chose
    assert "已导出 3 条线索。" in client.get("/audit/").get_data(as_text=True)


def test_older_entries_without_a_message_still_show_their_text(client, operator):
    add_entry(operator, "generate", "campaign", summary="2026-W48: 3 added")
    assert "2026-W48: 3 added" in client.get("/audit/").get_data(as_text=True)


def test_a_summary_may_hold_another_translatable_text(app, operator):
    from matrix.audit.reading import summary_text
    from matrix.live.trailer_report import TrailerReport

    trailers = TrailerReport(added=4).summary_message()
    entry = audit.record(operator, "import", "live_session",
                         summary=_l("%(n)d live sessions scheduled. %(trailers)s", n=2, trailers=trailers))
    db.session.commit()
    assert entry.params["trailers"]["msgid"].startswith("Trailers:")
    assert summary_text(entry) == "2 live sessions scheduled. Trailers: 4 added, 0 moved, 0 brought back, 0 cancelled, 0 flagged."


def test_lists_and_mappings_read_as_items_old_entries_too(client, operator):
    add_entry(operator, "create", "campaign", summary="冬季",
              changes={"cadence": "{'short_video': 7}", "slots": "['12:00', '18:00']", "scope_values": "[]"})
    add_entry(operator, "create", "campaign", summary="春季", changes={"cadence": {"image_post": 2}, "slots": ["09:00"]})
    html = client.get("/audit/").get_data(as_text=True)
    assert "Short video: 7" in html and "12:00, 18:00" in html and "<th>Image post</th>" in html and "09:00" in html
    assert "{&#39;" not in html and "[&#39;" not in html and "[]" not in html


def test_every_field_a_live_session_entry_records_has_a_label():
    from matrix.audit.labels import FIELD_LABELS
    from matrix.live.services import AUDITED

    assert [name for name in AUDITED if name not in FIELD_LABELS] == []
