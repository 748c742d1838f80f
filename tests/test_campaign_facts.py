"""The campaign page's counts of stores and accounts equal what generation would plan, counted in the database."""
from datetime import date

import pytest
from sqlalchemy import select

from matrix.accounts.models import AccountStatus
from matrix.auth.models import Role
from matrix.campaigns import services
from matrix.content.models import Campaign, StoreScope
from matrix.content.scope import in_scope, planned_account_count, planned_accounts
from matrix.extensions import db
from matrix.stores.models import Store, StoreStatus


def _planned(campaign) -> tuple[int, int]:
    ids = set(db.session.scalars(in_scope(select(Store.id), campaign)))
    return len(ids), sum(len(a) for a in planned_accounts(campaign, ids).values())


@pytest.mark.parametrize("scope", ["all", "city", "list", "tag", "nothing"])
def test_counted_like_generation_plans(make_user, make_store, make_account, platforms, scope):
    hq = make_user(Role.ADMIN)
    hangzhou = [make_store(city="杭州") for _ in range(3)]
    ningbo = make_store(city="宁波", district="海曙区")
    closed = make_store(status=StoreStatus.CLOSED)
    for store in (*hangzhou, ningbo, closed):
        make_account(store, "douyin")
        make_account(store, "kuaishou")
    make_account(hangzhou[0], "channels", status=AccountStatus.BANNED)
    make_account(hangzhou[1], "xiaohongshu", status=AccountStatus.INCUBATING)
    make_account(None, "douyin")  # a brand main account is never planned by a campaign
    services.set_store_tags(hangzhou[2], "旗舰店", actor=hq)
    values = {"all": [], "city": [hangzhou[0].city_code], "list": [str(hangzhou[1].id), str(ningbo.id)],
              "tag": ["旗舰店"], "nothing": ["无此标签"]}[scope]
    campaign = Campaign(name="双十二", starts_on=date(2026, 12, 7), ends_on=date(2026, 12, 13),
                        store_scope=StoreScope("tag" if scope == "nothing" else scope), scope_values=values,
                        platform_ids=[platforms["douyin"].id, platforms["xiaohongshu"].id],
                        cadence={"short_video": 3}, slots=["12:00"])
    db.session.add(campaign)
    db.session.commit()
    assert planned_account_count(campaign) == _planned(campaign)
    assert planned_account_count(campaign)[0] == {"all": 4, "city": 3, "list": 2, "tag": 1, "nothing": 0}[scope]
