"""Fixtures of store pages: a store with everything a customer may see, a sibling with secrets, HQ's settings."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from matrix.auth.models import Role
from matrix.brands.models import Brand
from matrix.extensions import db
from matrix.live.models import LiveSession
from matrix.storefront import tokens
from matrix.storefront.cache import pages
from matrix.storefront.counting import counter
from matrix.storefront.settings import settings_digest, storefront_settings, update_settings

PRIVACY = "我们只用您的电话回电。\n不会转交他人。"


@pytest.fixture
def storefront(make_store, make_account, make_community, make_user):
    """Store A (open, with accounts, a group with room after a full and a paused one, a session) and store B."""
    pages.clear()
    counter.take()
    brand = Brand(name="栖木家居")
    db.session.add(brand)
    db.session.commit()
    store_a = make_store(code="HZ-001", name="栖木家居·杭州西湖店", brand_id=brand.id, phone="0571-88880000",
                         opening_hours="周一至周日 10:00-22:00", address="文三路100号")
    store_b = make_store(code="HZ-002", name="乙门店隐私", brand_id=brand.id, phone="0571-77779999", address="乙地址隐私")
    account_a = make_account(store_a, platform="douyin", handle="qimu_xihu", display_name="栖木西湖店",
                 profile_url="https://www.douyin.com/user/qimu_xihu", run_by="运营员工隐私")
    make_account(store_a, platform="xiaohongshu", handle="qimu_xhs", display_name="栖木小红书",
                 profile_url="javascript:alert(1)")
    account_b = make_account(store_b, platform="douyin", handle="b_secret_handle", display_name="乙号隐私")
    make_community(store_a, name="西湖店1群", members=200, capacity=200, rotation_order=1,
                   invite_link="https://work.weixin.qq.com/gm/full1")
    make_community(store_a, name="西湖店暂停群", active=False, rotation_order=2,
                   invite_link="https://work.weixin.qq.com/gm/paused2")
    make_community(store_a, name="西湖店3群", members=20, rotation_order=3,
                   invite_link="https://work.weixin.qq.com/gm/room3",
                   robot_webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=ROBOTSECRETA")
    make_community(store_b, name="乙群隐私", invite_link="https://work.weixin.qq.com/gm/bsecret")
    manager = make_user(Role.STORE_MANAGER, stores=[store_a], username="manager_private", mobile="13911112222")
    manager.display_name = "店长隐私"
    db.session.commit()
    hq = make_user(Role.OPERATOR)
    start = datetime.now(timezone.utc) + timedelta(days=2)
    db.session.add_all([
        LiveSession(account_id=account_a.id, store_id=store_a.id, title="冬季新品直播",
                    anchor="主播隐私", anchor_key="主播隐私", starts_at=start, ends_at=start + timedelta(hours=2)),
        LiveSession(account_id=account_b.id, store_id=store_b.id, title="乙直播隐私", anchor="乙主播", anchor_key="乙主播",
                    starts_at=start, ends_at=start + timedelta(hours=2))])
    db.session.commit()
    update_settings({"lead_form": True, "privacy_text": PRIVACY, "consent_text": "我同意门店致电联系我。",
                     "poster_size": "A4", "poster_accent": "red", "poster_headline": "扫码进{{ store_name }}福利群",
                     "poster_body": "到店有礼", "poster_footer": "{{ address }}"}, actor=hq)
    return {"brand": brand, "store_a": store_a, "store_b": store_b, "manager": manager, "hq": hq}


@pytest.fixture
def form_token(app):
    """A form token of `store` served `age` seconds ago, for the settings now in force."""
    def make(store, age: float = 10.0) -> str:
        return tokens.issue(store.id, settings_digest(storefront_settings()), now=time.time() - age)
    return make


@pytest.fixture
def leave(client, form_token):
    """POST the store page's form as a visitor would, with a token served 10 s ago."""
    def send(store, *, channel="poster", token=None, **fields):
        data = {"phone": "13800138000", "name": "王女士", "wants": "想看沙发", "consent": "y", "website": "",
                "token": token if token is not None else form_token(store)}
        data.update(fields)
        return client.post(f"/s/{store.code}?c={channel}", data={k: v for k, v in data.items() if v is not None})
    return send
