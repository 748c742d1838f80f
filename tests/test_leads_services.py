"""Working leads without a web client: pipeline, notes, follow-ups, inbox filters, export and funnel."""
from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from matrix.audit.models import AuditEntry
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads import reports, services
from matrix.leads.models import LeadSource, LeadStatus, SourceKind
from matrix.leads.services import LeadFilters
from fixtures_leads import SHANGHAI, T0

def names(user, **filters) -> set[str]:
    return {lead.name for lead in db.session.scalars(services.filtered_leads(user, LeadFilters(**filters)))}


def test_first_move_away_from_new_sets_first_contact_once(lead_shop, make_lead):
    lead = make_lead(lead_shop["own"])
    later = T0 + timedelta(minutes=42)
    assert services.change_status(lead, LeadStatus.CONTACTED, actor=lead_shop["manager"], now=later)
    assert lead.first_contact_at == later
    assert services.time_to_first_contact(lead) == timedelta(minutes=42)
    services.change_status(lead, LeadStatus.JOINED, actor=lead_shop["manager"], now=later + timedelta(hours=5))
    assert lead.first_contact_at == later  # only the first move counts
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "lead")).all()
    assert [e.action for e in entries] == ["status", "status"]
    assert entries[0].store_id == lead_shop["own"].id


def test_lost_needs_a_reason_and_new_is_not_a_step_back(lead_shop, make_lead):
    lead = make_lead(lead_shop["own"])
    with pytest.raises(DomainError) as error:
        services.change_status(lead, LeadStatus.LOST, actor=lead_shop["manager"], reason="  ")
    assert error.value.field == "lost_reason"
    db.session.refresh(lead)
    assert lead.status == LeadStatus.NEW and lead.first_contact_at is None
    services.change_status(lead, LeadStatus.LOST, actor=lead_shop["manager"], reason="号码空号")
    assert (lead.status, lead.lost_reason) == (LeadStatus.LOST, "号码空号")
    assert lead.first_contact_at is not None  # a call that found a dead number was a contact
    with pytest.raises(DomainError):
        services.change_status(lead, LeadStatus.NEW, actor=lead_shop["manager"])
    services.change_status(lead, LeadStatus.CONTACTED, actor=lead_shop["manager"])
    assert lead.lost_reason is None
    assert not services.change_status(lead, LeadStatus.CONTACTED, actor=lead_shop["manager"])


def test_notes_and_follow_up_are_audited_without_the_text(lead_shop, make_lead):
    lead = make_lead(lead_shop["own"])
    with pytest.raises(DomainError):
        services.add_note(lead, "   ", actor=lead_shop["manager"])
    services.add_note(lead, "客户说周六来店，电话13900001111", actor=lead_shop["manager"], now=T0)
    services.add_note(lead, "second", actor=lead_shop["hq"], now=T0 + timedelta(days=1))
    notes = services.notes_of(lead)
    assert [n.body for n, _author in notes][1].startswith("客户说")
    assert all(author == "测试用户" for _n, author in notes)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "note")).first()
    assert "13900001111" not in repr(entry.changes) + entry.summary
    when = datetime(2024, 5, 8, 15, 30, tzinfo=SHANGHAI)
    services.set_follow_up(lead, when, actor=lead_shop["manager"])
    db.session.expire_all()
    assert lead.follow_up_at == when
    services.set_follow_up(lead, None, actor=lead_shop["manager"])
    assert lead.follow_up_at is None
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "follow_up")) is not None


def test_inbox_is_scoped_newest_first_and_filtered(lead_shop, make_lead):
    own, other = lead_shop["own"], lead_shop["other"]
    make_lead(own, name="老线索", received_at=T0 - timedelta(days=2))
    make_lead(own, name="新线索", phone="13700001111", status=LeadStatus.CONTACTED)
    make_lead(own, name="待跟进", phone=None, follow_up_at=T0 - timedelta(hours=1))
    make_lead(own, name="已成交", phone=None, status=LeadStatus.CONVERTED, follow_up_at=T0 - timedelta(hours=1))
    make_lead(other, name="上海线索", phone="13912345678")
    make_lead(None, name="无门店")
    manager, hq = lead_shop["manager"], lead_shop["hq"]
    rows = db.session.scalars(services.filtered_leads(manager, LeadFilters())).all()
    assert [r.name for r in rows][-1] == "老线索"
    assert names(manager) == {"老线索", "新线索", "待跟进", "已成交"}
    assert names(hq) == names(manager) | {"上海线索", "无门店"}
    assert names(hq, store_id=other.id) == {"上海线索"}
    assert names(manager, store_id=other.id) == set()  # a forged store filter finds nothing
    assert names(hq, city_code=other.city_code) == {"上海线索"}
    assert names(hq, unrouted=True) == {"无门店"}
    assert names(manager, status=LeadStatus.CONTACTED) == {"新线索"}
    assert names(manager, follow_up_due=True) == {"待跟进"}


def test_search_by_name_or_by_the_hash_of_a_typed_phone(lead_shop, make_lead):
    make_lead(lead_shop["own"], name="王小明", phone="13812345678")
    make_lead(lead_shop["other"], name="李四", phone="13912345678")
    manager, hq = lead_shop["manager"], lead_shop["hq"]
    assert names(manager, q="小明") == {"王小明"}
    assert names(manager, q="+86 138-1234-5678") == {"王小明"}
    assert names(hq, q="139 1234 5678") == {"李四"}
    assert names(manager, q="13912345678") == set()  # another store's number finds nothing
    assert names(manager, q="5678") == set()  # a fragment is not a number: no hash, no match
    assert names(manager, q="100%_") == set()


def test_sources_for_a_manager_leave_out_other_stores_forms(lead_shop):
    db.session.add_all([LeadSource(name="抖音线索", slug="douyin", kind=SourceKind.DOUYIN),
                        LeadSource(name="上海店表单", slug="sh-form", kind=SourceKind.GENERIC,
                                   store_id=lead_shop["other"].id),
                        LeadSource(name="西湖店表单", slug="hz-form", kind=SourceKind.GENERIC,
                                   store_id=lead_shop["own"].id)])
    db.session.commit()
    assert [s.name for s in services.visible_sources(lead_shop["manager"])] == ["抖音线索", "西湖店表单"]
    assert len(services.visible_sources(lead_shop["hq"])) == 3


@pytest.fixture
def english(app):
    with force_locale("en"):
        yield


def test_export_masks_phones_and_is_audited_with_the_row_count(lead_shop, make_lead, english):
    make_lead(lead_shop["own"], name="王小明", phone="13812345678", status=LeadStatus.CONTACTED,
              first_contact_at=T0 + timedelta(minutes=30))
    make_lead(lead_shop["other"], name="李四", phone="13912345678")
    headers, rows = reports.export_leads(lead_shop["manager"], LeadFilters(), tz=SHANGHAI)
    assert len(rows) == 1 and len(headers) == len(rows[0])
    row = dict(zip(headers, rows[0]))
    assert row["Phone"] == "138****5678" and row["Received"] == "2024-05-06 10:00"
    assert row["Minutes to first contact"] == 30 and row["Store code"] == "HZ-001"
    with pytest.raises(DomainError):
        reports.export_leads(lead_shop["manager"], LeadFilters(), include_phones=True, tz=SHANGHAI)
    headers, rows = reports.export_leads(lead_shop["hq"], LeadFilters(), include_phones=True, tz=SHANGHAI)
    assert {r[headers.index("Phone")] for r in rows} == {"13812345678", "13912345678"}
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.changes["rows"], e.changes["phones"]) for e in entries] == [(1, False), (2, True)]


def test_funnel_counts_conversion_and_median_time_to_first_contact(lead_shop, make_lead):
    own, other = lead_shop["own"], lead_shop["other"]
    for minutes, status in ((10, LeadStatus.CONTACTED), (20, LeadStatus.CONVERTED), (90, LeadStatus.LOST)):
        make_lead(own, phone=None, status=status, first_contact_at=T0 + timedelta(minutes=minutes))
    make_lead(own, phone=None)
    make_lead(other, phone=None, status=LeadStatus.CONVERTED, first_contact_at=T0 + timedelta(hours=5))
    make_lead(own, phone=None, received_at=T0 - timedelta(days=40))  # outside the range
    rows, total = reports.funnel(lead_shop["hq"], group_by="store", start=T0 - timedelta(days=1),
                                  end=T0 + timedelta(days=1))
    by_store = {r.key: r for r in rows}
    mine = by_store[own.id]
    assert mine.label == "HZ-001 杭州西湖店" and mine.total == 4
    assert mine.counts[LeadStatus.NEW] == 1 and mine.conversion == 25.0
    assert mine.median_first_contact == timedelta(minutes=20)
    assert total.total == 5 and total.counts[LeadStatus.CONVERTED] == 2
    assert total.median_first_contact == timedelta(minutes=55)
    rows, _ = reports.funnel(lead_shop["hq"], group_by="city", start=T0 - timedelta(days=1), end=T0 + timedelta(days=1))
    assert {r.label for r in rows} == {"杭州市", "上海市"}
    rows, _ = reports.funnel(lead_shop["manager"], group_by="store", start=T0 - timedelta(days=1),
                              end=T0 + timedelta(days=1))
    assert [r.key for r in rows] == [own.id]  # scoped like everything else
