"""End to end in Chromium, a lead's way: a signed webhook posted to the served app, the worker telling the store's
staff, the lead in the right store's inbox, and a store manager working it on a 390 px phone, shut out of the
other store."""
import hashlib
import hmac
import json
import time
import urllib.request

import pytest
from sqlalchemy import select

from matrix.auth.models import Role
from matrix.brands.models import Brand
from matrix.extensions import db
from matrix.leads.models import Lead, LeadStatus
from matrix.leads.sources import create_source
from matrix.notifications.worker import run_worker
from matrix.weeks import current_week, week_string

pytestmark = pytest.mark.slow

SECRET = "e2e-webhook-secret-2026"


@pytest.fixture
def shop(make_store, make_user, make_community, make_staff_channel):
    """Two stores of one brand in two cities, each with a manager, a customer group and a staff channel."""
    brand = Brand(name="栖木家居")
    db.session.add(brand)
    db.session.commit()
    stores = {"hz": make_store(code="HZ-001", name="栖木家居·杭州西湖店", brand_id=brand.id, lon=120.1551, lat=30.2741),
              "sh": make_store(code="SH-001", name="栖木家居·上海徐汇店", brand_id=brand.id, city="上海",
                               district="徐汇区", lon=121.4365, lat=31.1887)}
    managers = {}
    for key, name in (("hz", "王芳"), ("sh", "陈强")):
        make_community(stores[key], name=f"{stores[key].code}福利1群", members=37,
                       invite_link=f"https://work.weixin.qq.com/gm/{key}1")
        make_staff_channel(stores[key], f"staff-{key}")
        managers[key] = make_user(Role.STORE_MANAGER, stores=[stores[key]], username=f"mgr_{key}", locale="zh")
        managers[key].display_name = name
    db.session.commit()
    source, _secret = create_source(name="官网预约表单", kind="generic", slug="site-form", secret=SECRET,
                                    actor=make_user(Role.OPERATOR))
    return {"stores": stores, "managers": managers, "source": source}


def send_lead(base: str, slug: str, payload: dict) -> dict:
    """POST a lead as the platform does, signed as the README shows (HMAC-SHA256 of "<timestamp>.<body>")."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{base}/hooks/{slug}", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Timestamp": stamp, "X-Signature": signature})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())


def deliver_alerts(robot) -> list[dict]:
    """The worker's step, once: what is due goes to the robots (the stand-in)."""
    run_worker(once=True, echo=lambda _line: None)
    return robot.messages()


def lead_of(answer: dict) -> Lead:
    assert answer["ok"] is True and answer["duplicate"] is False, answer
    db.session.expire_all()  # the served app stored it in another session
    return db.session.get(Lead, answer["lead_id"])


HZ_LEAD = {"id": "WEB-1001", "name": "周女士", "phone": "13912345678", "city": "杭州", "district": "西湖区",
           "address": "文三路 100 号"}
SH_LEAD = {"id": "WEB-1002", "name": "钱先生", "phone": "13698765432", "city": "上海", "district": "徐汇区"}


def test_a_signed_lead_reaches_the_right_stores_inbox(browse, served, shop, robot):
    lead = lead_of(send_lead(served, "site-form", HZ_LEAD))
    assert lead.store_id == shop["stores"]["hz"].id
    messages = deliver_alerts(robot)
    told = [json.dumps(m, ensure_ascii=False) for m in robot.messages(key="staff-hz")]
    assert told and "139****5678" in told[0] and "13912345678" not in "".join(told)
    assert not robot.messages(key="staff-sh") and len(messages) == len(told)

    own = browse(shop["managers"]["hz"])
    own.visit("/leads/")
    assert "周女士" in own.text() and "139****5678" in own.text() and "13912345678" not in own.page.content()
    other = browse(shop["managers"]["sh"])
    other.visit("/leads/")
    assert "周女士" not in other.text()


def test_a_store_manager_works_a_lead_on_a_phone_and_cannot_reach_another_store(browse, served, shop):
    lead = lead_of(send_lead(served, "site-form", HZ_LEAD))
    elsewhere = lead_of(send_lead(served, "site-form", SH_LEAD))
    assert elsewhere.store_id == shop["stores"]["sh"].id

    tab = browse(shop["managers"]["hz"], phone=True)
    assert tab.path == "/today/"  # a manager lands on Today
    tab.page.click(f"main a[href='/leads/{lead.id}'] >> nth=-1")
    tab.arrived()
    assert tab.path == f"/leads/{lead.id}" and "周女士" in tab.text()
    tab.page.select_option("select[name=status]", LeadStatus.CONTACTED.value)
    with tab.page.expect_navigation():
        tab.page.click(f"form[action='/leads/{lead.id}/status'] button")
    tab.arrived()
    tab.page.fill("textarea[name=body]", "已电话联系，周六下午到店看沙发。")
    with tab.page.expect_navigation():
        tab.page.click(f"form[action='/leads/{lead.id}/notes'] button")
    tab.arrived()
    assert "周六下午到店看沙发" in tab.text()
    assert tab.page.locator(f".badge-lead-{LeadStatus.CONTACTED.value}").count() >= 1
    tab.shoot("manager-lead-phone")
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).status == LeadStatus.CONTACTED

    tab.visit(f"/leads/{elsewhere.id}", status=404)
    tab.visit(f"/plans/{shop['stores']['sh'].id}/{week_string(current_week())}", status=404)
    assert db.session.scalar(select(Lead.status).where(Lead.id == elsewhere.id)) == LeadStatus.NEW
