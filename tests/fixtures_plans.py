"""Fixtures of the weekly plan: a store with a planned item (week_shop), and an item builder."""
from datetime import date

import pytest

from matrix.auth.models import Role
from matrix.content.models import ContentItem, ContentKind
from matrix.extensions import db

MONDAY = date(2026, 11, 23)  # 2026-W48
WEEK = "2026-W48"


@pytest.fixture
def make_item(app):
    def build(store, account=None, day=MONDAY, slot="12:00", kind=ContentKind.SHORT_VIDEO, **extra) -> ContentItem:
        item = ContentItem(store_id=store.id, account_id=account.id if account else None, day=day, slot=slot,
                           kind=kind, topic=extra.pop("topic", "新品到店"),
                           caption=extra.pop("caption", "本周新品到店，欢迎来店体验！"),
                           script=extra.pop("script", "1. 门头\n2. 新品陈列\n3. 店员推荐"), **extra)
        db.session.add(item)
        db.session.commit()
        return item
    return build


@pytest.fixture
def week_shop(make_store, make_account, make_user, make_item):
    """A Hangzhou store with a Douyin account and one planned item; its manager; HQ; another store."""
    store = make_store(code="HZ-001", name="杭州西湖店")
    other = make_store(code="SH-001", name="上海徐汇店", city="上海", district="徐汇区")
    account = make_account(store=store, platform="douyin", handle="hz_xihu")
    other_account = make_account(store=other, platform="douyin", handle="sh_xuhui")
    manager = make_user(Role.STORE_MANAGER, stores=[store])
    hq = make_user(Role.OPERATOR)
    item = make_item(store, account)
    return {"store": store, "other": other, "account": account, "other_account": other_account,
            "manager": manager, "hq": hq, "item": item}
