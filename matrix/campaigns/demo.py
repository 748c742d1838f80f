"""The demo chain's campaign: templates with reference material, three generated weeks, and their history.

Booked through the services like HQ would (create, add templates, generate), then filled in by
the clock: items whose time has passed were mostly published (with a post link on their
platform), some shot and waiting, a few skipped, the rest left overdue. A demo manager's store
gets two posts of its own still to do later today, so their Today page has work on it.
"""
import random
import struct
import zlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from matrix.accounts.models import Account, AccountScope, AccountStatus
from matrix.auth.models import User
from matrix.campaigns import services
from matrix.chain import chain_zone
from matrix.content.generation import generate_week
from matrix.content.models import Campaign, ContentItem, ContentKind, ItemStatus
from matrix.extensions import db
from matrix.live.demo import POST_URLS
from matrix.materials.services import add_material
from matrix.models import utcnow
from matrix.plans.services import add_item, starts_at
from matrix.stores.models import Store

NAME = "双十二焕新季"
TEMPLATES = [
    ("short_video", "新品到店｜{{ district }}", "{{ store_name }}本周新品到店！{{ city }}{{ district }}的朋友，进店就能体验新款布艺沙发。"
     "{% if community_name %}进群领到店礼：{{ community_name }}{% endif %}",
     "镜头1：门头远景推近\n镜头2：新品陈列特写\n镜头3：店员口播到店福利", "#{{ city }}探店 #栖木家居 #双十二",
     "{{ store_name }}"),
    ("short_video", "店长带你逛样板间", "跟着店长逛{{ store_name }}的客厅、卧室和儿童房样板间，一站配齐不踩坑。",
     "镜头1：店长出镜打招呼\n镜头2：客厅样板间全景\n镜头3：卧室细节\n镜头4：结尾引导进群", "#家居灵感 #{{ city }}好店",
     "{{ store_name }}"),
    ("short_video", "顾客说｜真实到店体验", "{{ district }}的顾客来{{ store_name }}体验坐感，说说她的选择理由。"
     "{% if next_live_session %}直播预告：{{ next_live_session }}{% endif %}",
     "镜头1：顾客试坐\n镜头2：面料与做工特写\n镜头3：顾客口播评价", "#真实测评 #{{ city }}家居", "{{ store_name }}"),
    ("image_post", "本周好物清单", "{{ store_name }}本周好物：布艺沙发、羽绒被、收纳柜，双十二到店价更优。",
     "图1：封面合集\n图2：价格牌\n图3：门店地址 {{ address }}", "#好物分享 #双十二", "{{ store_name }}"),
]
OWN_POSTS = [("店长自拍：今晚到店福利", "今晚到店的朋友有小礼物，先到先得！"),
             ("新到的床品四件套开箱", "刚到的冬季床品四件套，手感太好了，快来摸摸看。")]


def reference_png(width: int = 320, height: int = 180) -> bytes:
    """A small two-tone PNG standing in for the photo HQ would upload (a framing guide: store front, product)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes([40 if y < height // 3 else 200]) * width for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _history(rng: random.Random, campaign: Campaign, now: datetime, zone: str) -> None:
    """Items whose time has passed: mostly published, some shot, a few skipped, the rest overdue."""
    items = db.session.scalars(select(ContentItem).where(ContentItem.campaign_id == campaign.id,
                                                         ContentItem.day <= now.astimezone(ZoneInfo(zone)).date())
                               .order_by(ContentItem.id)).all()
    for item in items:
        if starts_at(item.day, item.slot, zone) >= now:
            continue
        roll = rng.random()
        if roll < 0.72:
            code = item.account.platform.code if item.account else "douyin"
            item.status = ItemStatus.PUBLISHED
            item.post_url = POST_URLS.get(code, POST_URLS["douyin"]).format(n=rng.randint(10**15, 10**16 - 1))
        elif roll < 0.82:
            item.status = ItemStatus.SHOT
        elif roll < 0.86:
            item.status, item.skip_reason = ItemStatus.SKIPPED, "门店当天盘点，人手不够"
    db.session.commit()


def _own_posts(store_ids: list[int], actor: User, manager: User | None, now: datetime, zone: str) -> None:
    """Posts a store added itself: two for later today (HQ's, no approval), one waiting for HQ's approval."""
    local = now.astimezone(ZoneInfo(zone))
    soon = local.replace(second=0, microsecond=0) + timedelta(minutes=10 - local.minute % 10)
    later = [min(soon + timedelta(hours=h), local.replace(hour=23, minute=30)) for h in (1, 3)]
    for store_id in store_ids[:1]:
        store = db.session.get(Store, store_id)
        account = _store_accounts(store_id).first()
        if account is None:
            continue
        for (topic, caption), moment in zip(OWN_POSTS, later):
            add_item(store, actor=actor, account_id=account.id, day=moment.date(), slot=moment.strftime("%H:%M"),
                     kind=ContentKind.SHORT_VIDEO.value, topic=topic, caption=caption, hashtags="#到店福利")
        if manager is not None:  # the campaign asks for approval: HQ finds it in the queue
            add_item(store, actor=manager, account_id=account.id, day=(local + timedelta(days=1)).date(),
                     slot="19:00", kind=ContentKind.SHORT_VIDEO.value, topic="周末亲子手作活动预告",
                     caption="周六下午店里有亲子手作，报名私信我们～")


def _store_accounts(store_id: int):
    return db.session.scalars(select(Account).where(Account.store_id == store_id, Account.scope == AccountScope.STORE,
                                                    Account.status.in_((AccountStatus.ACTIVE,
                                                                        AccountStatus.INCUBATING)))
                              .order_by(Account.status, Account.id))


def add_demo_campaign(rng: random.Random, *, actor: User, manager: User | None, focus_store_ids: list[int]) -> int | None:
    """The campaign, last week to next week generated, history by the clock; None when a campaign exists."""
    if db.session.scalar(select(func.count()).select_from(Campaign)):
        return None
    zone, now = chain_zone(), utcnow()
    today = now.astimezone(ZoneInfo(zone)).date()
    monday = today - timedelta(days=today.weekday())
    campaign = services.create_campaign(actor=actor, name=NAME, starts_on=monday - timedelta(days=7),
                                        ends_on=monday + timedelta(days=13), store_scope="all",
                                        cadence={"short_video": 4, "image_post": 2}, slots="12:00, 18:00, 20:30",
                                        requires_approval=True)
    for kind, topic, caption, script, hashtags, location in TEMPLATES:
        template = services.add_template(campaign, actor=actor, kind=kind, topic=topic, caption=caption,
                                         script=script, hashtags=hashtags, location_tag=location)
        if kind == "short_video" and template.sort_order == 1:
            add_material(template, actor=actor, file_name="门头取景参考.png", data=reference_png())
    # HQ generated each week on its Monday morning, so every slot of it was still ahead then.
    weeks = [monday + timedelta(days=7 * n) for n in (-1, 0, 1)]
    items = sum(generate_week(campaign, week, actor=actor, zone=zone,
                              now=datetime.combine(week, time.min, tzinfo=ZoneInfo(zone))).added for week in weeks)
    _history(rng, campaign, now, zone)
    _own_posts(focus_store_ids, actor, manager, now, zone)
    return items
