"""End to end in Chromium, a customer's way: a store's public page opened from a poster on a phone, the group's
join code, the counted join click, and a lead left with consent."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from matrix.auth.models import Role
from matrix.brands.models import Brand
from matrix.extensions import db
from matrix.leads.models import Lead
from matrix.live.models import LiveSession
from matrix.storefront.counting import counter, flush_counts
from matrix.storefront.models import LeadConsent, PageCount
from matrix.storefront.settings import update_settings

pytestmark = pytest.mark.slow

INVITE = "https://work.weixin.qq.com/gm/qimu-hz001-2"


@pytest.fixture
def open_store(make_store, make_account, make_community, make_user):
    """An open store with what a customer may see: hours, phone, accounts, a group with room, a session."""
    counter.take()  # counts left in this process by earlier tests are not this store's
    brand = Brand(name="栖木家居")
    db.session.add(brand)
    db.session.commit()
    store = make_store(code="HZ-001", name="栖木家居·杭州西湖店", brand_id=brand.id, phone="0571-8888 0000",
                       opening_hours="周一至周日 10:00-22:00", address="西湖区文三路 100 号")
    douyin = make_account(store, platform="douyin", handle="qimu_xihu", display_name="栖木家居西湖店",
                          profile_url="https://www.douyin.com/user/qimu_xihu")
    make_account(store, platform="xiaohongshu", handle="qimu_xihu_xhs", display_name="栖木西湖店的家",
                 profile_url="https://www.xiaohongshu.com/user/profile/qimu_xihu_xhs")
    make_community(store, name="西湖店福利1群", members=200, capacity=200, rotation_order=1,
                   invite_link="https://work.weixin.qq.com/gm/qimu-hz001-1")
    make_community(store, name="西湖店福利2群", members=58, rotation_order=2, invite_link=INVITE)
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    db.session.add(LiveSession(account_id=douyin.id, store_id=store.id, title="冬季新品直播：羽绒被到店价",
                               anchor="李娜", anchor_key="李娜", starts_at=start, ends_at=start + timedelta(hours=2)))
    db.session.commit()
    update_settings({"lead_form": True, "privacy_text": "我们只用您的电话回电，不会转交他人。",
                     "consent_text": "我同意门店致电联系我。", "poster_size": "A4", "poster_accent": "red",
                     "poster_headline": "扫码进{{ store_name }}福利群", "poster_body": "到店有礼",
                     "poster_footer": "{{ address }}"}, actor=make_user(Role.OPERATOR))
    return store


def counts(store_id: int) -> tuple[int, int]:
    """(views, join clicks) of the store's page from posters, once the counts are written."""
    flush_counts()
    row = db.session.scalar(select(PageCount).where(PageCount.store_id == store_id, PageCount.channel == "poster"))
    if row is None:
        return 0, 0
    db.session.refresh(row)
    return row.views, row.join_clicks


def test_a_visitor_opens_a_store_page_joins_and_leaves_a_lead(app, browse, open_store, monkeypatch):
    # A person takes longer than the 3 s the form waits for; the bot guard has its own tests.
    monkeypatch.setitem(app.config, "STOREFRONT_MIN_FILL_S", 0)
    tab = browse(phone=True)
    tab.visit(f"/s/{open_store.code}?c=poster")
    page = tab.text("body")
    for shown in ("栖木家居·杭州西湖店", "周一至周日 10:00-22:00", "0571-8888 0000", "西湖店福利2群",
                  "冬季新品直播：羽绒被到店价", "@qimu_xihu_xhs"):
        assert shown in page, shown
    assert "西湖店福利1群" not in page and "李娜" not in page  # a full group and the anchor are not for customers
    assert tab.page.locator(".sf-join .sf-qr svg").count() == 1
    # The profile links say "查看" (view), not the store status "营业中" that shares the English word "Open".
    assert tab.page.locator("a[href^='https://www.douyin.com/']").inner_text() == "查看"
    tab.shoot("store-page-phone")
    assert tab.page.context.cookies() == []
    assert counts(open_store.id) == (1, 0)

    with tab.page.expect_request(INVITE):  # the counted link leads on to the group's invite (beyond the suite)
        tab.page.click(".sf-join a.sf-button")
    assert tab.outside == [INVITE]
    assert counts(open_store.id) == (1, 1)

    tab.visit(f"/s/{open_store.code}?c=poster")
    tab.page.fill("input[name=phone]", "139 1234 5678")
    tab.page.fill("input[name=name]", "周女士")
    tab.page.fill("textarea[name=wants]", "想周末看看布艺沙发")
    tab.page.check("input[name=consent]")
    with tab.page.expect_navigation():
        tab.page.click("form.sf-form button[type=submit]")
    tab.arrived()
    assert tab.path == f"/s/{open_store.code}/thanks?c=poster", tab.text("body")
    assert tab.page.context.cookies() == []
    lead = db.session.scalar(select(Lead))
    assert lead.store_id == open_store.id and lead.phone_masked == "139****5678" and lead.name == "周女士"
    assert db.session.get(LeadConsent, lead.id).channel == "poster"
    assert counts(open_store.id) == (2, 1)
