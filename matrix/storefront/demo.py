"""Demo data of the store pages: HQ's settings, opening hours, profile links, two weeks of counts, a few page leads."""
import random
from datetime import timedelta

from sqlalchemy import select

from matrix.accounts.models import Account, AccountScope
from matrix.auth.models import Role, User
from matrix.chain import chain_zone
from matrix.extensions import db
from matrix.storefront.counting import PageCounter, flush_counts, local_day
from matrix.storefront.leads import leave_lead
from matrix.storefront.settings import update_settings
from matrix.stores.models import Store, StoreStatus

PRIVACY = ("栖木家居个人信息保护声明（演示）\n我们仅为回电、邀请您加入门店福利群而使用您留下的电话号码，"
           "由您选择的门店处理，保存不超过一年，不向第三方提供。\n您可随时致电门店要求查询、更正或删除。")
PROFILE_URLS = {"douyin": "https://www.douyin.com/user/{h}", "kuaishou": "https://www.kuaishou.com/profile/{h}",
                "channels": "https://channels.weixin.qq.com/{h}", "xiaohongshu": "https://www.xiaohongshu.com/user/profile/{h}"}
HOURS = ("周一至周日 10:00-22:00", "周一至周五 10:00-21:00，周末 09:30-22:00", "每天 09:00-21:30")
CHANNEL_WEIGHTS = {"poster": 5, "bio": 4, "trailer": 3, "share": 2, "page": 2, "other": 1}
VISITORS = (("陈女士", "13957100001", "想看看布艺沙发"), ("", "13957100002", "直播间的床品还有吗"),
            ("周先生", "13957100003", "周末到店，想约搭配师"))


def add_storefront_demo(rng: random.Random) -> None:
    """Fill the store-page parts of the demo chain (called once by build_demo)."""
    actor = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    settings = update_settings({"lead_form": True, "privacy_text": PRIVACY,
                                "consent_text": "我已阅读并同意《个人信息保护声明》，同意门店通过电话与我联系。",
                                "poster_size": "A4", "poster_accent": "red",
                                "poster_headline": "扫码进{{ store_name }}福利群",
                                "poster_body": "新品到店体验，直播间专属优惠。{% if next_live %}\n下一场直播：{{ next_live }}{% endif %}",
                                "poster_footer": "{{ address }}{% if opening_hours %} · {{ opening_hours }}{% endif %}"},
                               actor=actor)
    stores = db.session.scalars(select(Store).where(Store.status == StoreStatus.OPEN).order_by(Store.id)).all()
    for store in stores:
        store.opening_hours = rng.choice(HOURS)
    for account in db.session.scalars(select(Account).where(Account.scope == AccountScope.STORE,
                                                            Account.profile_url.is_(None))):
        account.profile_url = PROFILE_URLS.get(account.platform.code, PROFILE_URLS["douyin"]).format(h=account.handle)
    db.session.commit()
    _counts(rng, stores)
    for (name, phone, wants), store in zip(VISITORS, stores):
        leave_lead(store, name=name, phone=phone, wants=wants, consent=True, channel="poster", settings=settings)


def _counts(rng: random.Random, stores: list[Store]) -> None:
    """Two weeks of views and join clicks: posters and profile links bring most, about one view in six joins."""
    counter, today = PageCounter(), local_day(chain_zone())
    for store in stores:
        busy = rng.uniform(0.3, 2.0)
        for back in range(14):
            day = today - timedelta(days=back)
            for channel, weight in CHANNEL_WEIGHTS.items():
                views = int(rng.expovariate(1 / (weight * 3 * busy)))
                if views:
                    counter.add((store.id, channel, day), views=views, joins=sum(rng.random() < 0.17 for _ in range(views)))
    flush_counts(counter)
