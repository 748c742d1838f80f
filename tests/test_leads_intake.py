"""Lead intake services: phones protected at rest, dedupe, store resolution, one transaction with the notice."""
import hashlib
import json

import pytest
from sqlalchemy import func, select, text

from config import DevelopmentConfig, ProductionConfig
from matrix import create_app
from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.leads import intake, phones, services
from matrix.leads.intake import LeadInput, LeadRejected, accept_lead
from matrix.leads.models import Lead, LeadNote, LeadSource, SourceKind
from matrix.leads.sources import create_source, import_source, manual_source
from matrix.notifications.models import Notification

PHONE = "13800138000"
ROBOT = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=intake-test-key"


@pytest.fixture
def source(app, make_user):
    made, _secret = create_source(name="测试来源", kind="generic", slug="test-generic", actor=make_user())
    return made


def lead_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Lead))


def test_protect_phone_encrypts_hashes_with_a_key_and_masks(app):
    fields = phones.protect_phone("+86 138-0013-8000")
    assert PHONE.encode() not in fields.encrypted
    assert phones.decrypt_phone(fields.encrypted) == PHONE
    assert fields.masked == "138****8000"
    assert fields.hash == phones.phone_hash(PHONE) == phones.phone_hash("0086 13800138000")
    assert fields.hash != hashlib.sha256(PHONE.encode()).hexdigest()  # keyed: not a lookup table away
    assert phones.protect_phone(PHONE).encrypted != fields.encrypted  # Fernet is randomised


@pytest.mark.parametrize("bad", ["12345", "abc1380013800", "12800138000", "138001380001234567"])
def test_phone_that_cannot_be_dialled_is_refused(app, bad):
    with pytest.raises(phones.PhoneError):
        phones.normalise_phone(bad)


def test_accepted_lead_keeps_no_phone_in_clear_anywhere_in_the_database(app, source):
    raw = {"id": "c-1", "phone": PHONE, "remark": "请打 138 0013 8000 联系", "nested": json.dumps({"tel": PHONE}),
           "n": 13800138000}
    lead, created = accept_lead(LeadInput(external_id="c-1", name="张三", phone=PHONE, raw=raw), source=source)
    assert created and lead.phone_masked == "138****8000"
    rows = db.session.execute(text("SELECT * FROM leads")).all()
    dump = repr(rows)
    assert PHONE not in dump and "138 0013 8000" not in dump
    for row in rows:
        for value in row:
            if isinstance(value, (bytes, memoryview)):
                assert PHONE.encode() not in bytes(value)
    stored = db.session.get(Lead, lead.id).raw_payload
    assert PHONE not in json.dumps(stored, ensure_ascii=False)
    assert stored["phone"] == "138****8000" and "138****8000" in stored["remark"] and stored["n"] == "138****8000"
    assert phones.decrypt_phone(db.session.get(Lead, lead.id).phone_encrypted) == PHONE


def test_the_same_lead_three_times_is_one_lead(app, source):
    results = [accept_lead(LeadInput(external_id="clue-9", phone=PHONE), source=source) for _ in range(3)]
    assert [created for _lead, created in results] == [True, False, False]
    assert len({lead.id for lead, _c in results}) == 1 and lead_count() == 1


def test_message_id_dedupes_when_there_is_no_lead_id(app, source):
    for _ in range(3):
        accept_lead(LeadInput(phone=PHONE, message_id="msg-77"), source=source)
    assert lead_count() == 1
    assert db.session.scalar(select(Lead.external_id)) == "msg:msg-77"


def test_same_id_from_two_sources_is_two_leads_and_the_phone_duplicate_is_noted(app, source, make_user,
                                                                                make_store):
    store, elsewhere = make_store(), make_store(city="上海", district="黄浦区", lon=121.48, lat=31.23)
    other, _ = create_source(name="第二来源", kind="kuaishou", slug="second", actor=make_user())
    first, _c = accept_lead(LeadInput(external_id="1", phone=PHONE, source_store_id=store.id), source=source)
    second, created = accept_lead(LeadInput(external_id="1", phone="+8613800138000", source_store_id=store.id),
                                  source=other)
    assert created and first.id != second.id
    assert first.phone_hash == second.phone_hash
    note = db.session.scalar(select(LeadNote).where(LeadNote.lead_id == second.id))
    assert note is not None and f"#{first.id}" in note.body
    assert db.session.scalar(select(LeadNote).where(LeadNote.lead_id == first.id)) is None
    # Another store's manager must not learn that the number is a lead elsewhere.
    third, _c = accept_lead(LeadInput(external_id="2", phone=PHONE, source_store_id=elsewhere.id), source=other)
    assert third.store_id == elsewhere.id
    assert db.session.scalar(select(LeadNote).where(LeadNote.lead_id == third.id)) is None


def test_a_lead_needs_a_phone_or_a_lead_id(app, source):
    with pytest.raises(LeadRejected) as e:
        accept_lead(LeadInput(name="无联系方式", city="杭州"), source=source)
    assert e.value.code == "missing_field:phone_or_external_id"
    with pytest.raises(DomainError):
        accept_lead(LeadInput(external_id="x", phone="123"), source=source)
    assert lead_count() == 0


def test_coordinates_are_converted_to_wgs84_and_a_wrong_point_is_dropped(app, source):
    gcj, _c = accept_lead(LeadInput(external_id="g", phone=PHONE, lon=120.1350, lat=30.2590), source=source)
    assert gcj.lon == pytest.approx(120.1303, abs=0.002) and gcj.lat == pytest.approx(30.2614, abs=0.002)
    swapped, _c = accept_lead(LeadInput(external_id="s", phone=PHONE, lon=30.2, lat=120.1), source=source)
    assert swapped.lon is None and swapped.lat is None and swapped.id


def test_store_named_by_code_poi_account_or_source(app, source, make_store, make_account, make_user):
    store = make_store(code="HZ-101")
    other = make_store(code="HZ-102")
    make_account(store=other, handle="hz102_dy", poi_id="6601")
    assert intake.resolve_source_store(LeadInput(source_store_id="HZ-101"), source) == store.id
    assert intake.resolve_source_store(LeadInput(source_store_id=store.id), source) == store.id
    assert intake.resolve_source_store(LeadInput(poi_id="6601"), source) == other.id
    assert intake.resolve_source_store(LeadInput(source_store_id="6601"), source) == other.id
    assert intake.resolve_source_store(LeadInput(account_id="hz102_dy"), source) == other.id
    assert intake.resolve_source_store(LeadInput(source_store_id="NOPE"), source) is None
    own, _ = create_source(name="门店表单", kind="generic", slug="store-form", store_id=store.id, actor=make_user())
    assert intake.resolve_source_store(LeadInput(), own) == store.id


def test_lead_routed_and_notice_queued_in_the_same_commit(app, source, make_store, make_community,
                                                          make_staff_channel):
    store = make_store(code="HZ-201", lon=120.13, lat=30.26, service_radius_km=5)
    make_community(store, robot_webhook_url=ROBOT, capacity=200, members=10)
    make_staff_channel(store, "KEYSTAFFHZ201")
    lead, _c = accept_lead(LeadInput(external_id="r-1", phone=PHONE, lon=120.131, lat=30.261,
                                     coord_system="wgs84"), source=source)
    db.session.expire_all()
    lead = db.session.get(Lead, lead.id)
    assert lead.store_id == store.id and lead.routing_rule.value == "coordinates"
    notices = db.session.scalars(select(Notification).where(Notification.lead_id == lead.id)).all()
    assert notices and all(n.status.value == "pending" for n in notices)
    assert PHONE not in json.dumps([n.message for n in notices], ensure_ascii=False)


def test_a_failing_enqueue_stores_no_lead(app, source, monkeypatch):
    def boom(lead, **kwargs):
        raise RuntimeError("outbox down")
    monkeypatch.setattr("matrix.leads.alerts.enqueue_for_lead", boom)
    with pytest.raises(RuntimeError):
        accept_lead(LeadInput(external_id="o-1", phone=PHONE), source=source)
    assert lead_count() == 0


def test_manual_source_is_created_once_and_takes_no_webhooks(app, make_user):
    first = manual_source()
    db.session.commit()
    assert manual_source().id == first.id
    assert first.slug == "manual" and first.kind == SourceKind.MANUAL and not first.active
    assert import_source().kind == SourceKind.IMPORT
    lead, _c = accept_lead(LeadInput(name="到店客户", phone=PHONE), source=None, actor=make_user())
    assert lead.source_id == first.id
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "lead", AuditEntry.entity_id == lead.id))


def test_reveal_phone_is_for_the_store_and_hq_and_is_audited(app, source, make_store, make_user):
    store, other = make_store(code="HZ-301"), make_store(code="HZ-302")
    lead, _c = accept_lead(LeadInput(external_id="v", phone=PHONE, source_store_id=store.id), source=source)
    lead.store_id = store.id
    db.session.commit()
    manager = make_user(Role.STORE_MANAGER, stores=[store])
    stranger = make_user(Role.STORE_MANAGER, stores=[other])
    assert services.reveal_phone(lead, actor=manager) == PHONE
    assert services.reveal_phone(lead, actor=make_user(Role.OPERATOR)) == PHONE
    with pytest.raises(DomainError):
        services.reveal_phone(lead, actor=stranger)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reveal_phone")).all()
    assert len(entries) == 2 and all(PHONE not in repr(e.summary) + repr(e.changes) for e in entries)


def test_source_secret_is_encrypted_at_rest(app, make_user):
    made, secret = create_source(name="密钥", kind="generic", slug="secret-test", actor=make_user())
    raw = db.session.execute(text("SELECT secret_encrypted FROM lead_sources WHERE id = :i"), {"i": made.id}).scalar()
    assert secret.encode() not in bytes(raw) and len(secret) >= 32
    assert db.session.scalar(select(LeadSource.slug).where(LeadSource.id == made.id)) == "secret-test"


def test_production_refuses_to_start_without_lead_keys(monkeypatch, tmp_path):
    class Settings(ProductionConfig):
        SECRET_KEY = "x" * 40
        LEAD_PHONE_KEY = None
        LEAD_HASH_KEY = "h"
        SQLALCHEMY_DATABASE_URI = "sqlite:///" + str(tmp_path / "p.db")

    with pytest.raises(RuntimeError, match="LEAD_PHONE_KEY is not set"):
        create_app(Settings)

    class BadKey(Settings):
        LEAD_PHONE_KEY = "not-a-fernet-key"

    with pytest.raises(RuntimeError, match="not a valid Fernet key"):
        create_app(BadKey)


def test_development_lead_keys_are_generated_once_in_the_instance_folder(monkeypatch, tmp_path):
    class Settings(DevelopmentConfig):
        SECRET_KEY = "dev"
        LEAD_PHONE_KEY = None
        LEAD_HASH_KEY = None
        SQLALCHEMY_DATABASE_URI = "sqlite:///" + str(tmp_path / "d.db")

    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path / "instance"))
    first, second = create_app(Settings).config, create_app(Settings).config
    assert first["LEAD_PHONE_KEY"] == second["LEAD_PHONE_KEY"] and first["LEAD_HASH_KEY"] == second["LEAD_HASH_KEY"]
    assert (tmp_path / "instance" / "lead_phone_key").read_text().strip() == first["LEAD_PHONE_KEY"]
