"""The first hour without a web client: gaps, naming rules, the gap sheet read back by the imports, handing over."""
import pytest
from samples import png
from sqlalchemy import func, select

from matrix.accounts.models import Account, AccountScope, AccountStatus
from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.brands.models import Brand
from matrix.communities.models import Community
from matrix.errors import DomainError, FieldErrors
from matrix.extensions import db
from matrix.imports.apply import apply_import
from matrix.imports.exports import to_csv
from matrix.imports.preview import preview_import
from matrix.imports.readers import read_table
from matrix.onboarding import gap_sheet
from matrix.onboarding.gaps import chain_gaps, progress_by_city
from matrix.onboarding.handover import add_store_account, fill_store_group, hand_over
from matrix.onboarding.models import Handover
from matrix.onboarding.naming import check_rule, naming_rules, render_rule, save_naming_rules
from matrix.stores.models import StoreStatus


@pytest.fixture
def hq(make_user):
    return make_user(Role.OPERATOR)


@pytest.fixture
def chain(app, platforms, make_store, make_account, make_community):
    """Three Hangzhou stores and a Shanghai one: one complete, the others missing accounts or a joinable group."""
    brand = Brand(name="林氏家居")
    db.session.add(brand)
    db.session.commit()
    stores = {code: make_store(code=code, name=name, city=city, district=district, brand_id=brand.id)
              for code, name, city, district in [("HZ-001", "杭州西湖店", "杭州", "西湖区"),
                                                 ("HZ-002", "杭州滨江店", "杭州", "滨江区"),
                                                 ("HZ-003", "杭州拱墅店", "杭州", "拱墅区"),
                                                 ("SH-001", "上海徐汇店", "上海", "徐汇区")]}
    for code in ("douyin", "kuaishou", "channels", "xiaohongshu"):
        make_account(stores["HZ-001"], code)
    make_account(stores["HZ-002"], "douyin")
    make_account(stores["HZ-002"], "kuaishou", status=AccountStatus.RETIRED)  # a retired account is a gap
    make_community(stores["HZ-001"], name="西湖1群", invite_link="https://work.weixin.qq.com/g/1")
    make_community(stores["HZ-002"], name="滨江1群")  # neither QR nor link: customers cannot join
    make_store(code="HZ-009", name="已关店", status=StoreStatus.CLOSED)  # closed: nothing to fill
    return stores


def gaps_by_code(user):
    return {s.code: s for s in chain_gaps(user)}


def test_gaps_name_what_each_store_lacks(hq, chain, platforms):
    gaps = gaps_by_code(hq)
    assert set(gaps) == {"HZ-001", "HZ-002", "HZ-003", "SH-001"}
    assert gaps["HZ-001"].complete
    assert [p.code for p in gaps["HZ-002"].missing] == ["kuaishou", "channels", "xiaohongshu"]
    assert not gaps["HZ-002"].needs_group and gaps["HZ-002"].group_gap
    assert gaps["HZ-003"].needs_group and len(gaps["HZ-003"].missing) == 4
    shanghai, hangzhou, total = progress_by_city(list(gaps.values()))  # the least complete city first
    assert shanghai.percent == 0.0
    assert (hangzhou.name, hangzhou.stores, hangzhou.complete, hangzhou.percent) == ("杭州市", 3, 1, 33.3)
    assert (total.stores, total.complete, total.missing_accounts, total.group_gaps) == (4, 1, 11, 3)
    assert total.with_accounts == 1


def test_a_manager_sees_only_their_stores_gaps(chain, make_user):
    manager = make_user(Role.STORE_MANAGER, stores=[chain["HZ-002"]])
    assert [s.code for s in chain_gaps(manager)] == ["HZ-002"]


@pytest.mark.parametrize("rule,message", [("{brand}·{city", "brace"), ("{owner}店", "placeholder"),
                                          ("{city!r}", "placeholder"), ("", "Write a rule")])
def test_naming_rules_are_checked(app, rule, message):
    with pytest.raises(DomainError, match=message):
        check_rule(rule, field="account_name_rule")


def test_naming_rules_fill_in_and_are_audited(hq, chain):
    assert render_rule("{brand}·{city}{district}店", {"brand": "林氏", "city": "杭州", "district": "西湖"}) == "林氏·杭州西湖店"
    with pytest.raises(FieldErrors) as refused:
        save_naming_rules(account_name_rule="{nope}", group_name_rule="{store", actor=hq)
    assert set(refused.value.errors) == {"account_name_rule", "group_name_rule"}  # both said at once
    save_naming_rules(account_name_rule="{brand}{city}{district}·{platform}", group_name_rule="{code}-{n}群",
                      actor=hq)
    assert naming_rules().account_name_rule == "{brand}{city}{district}·{platform}"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "naming_rules")).changes


def test_the_account_gap_sheet_is_exactly_the_gaps_and_imports_back_as_it_is(hq, chain):
    header, rows = gap_sheet.account_gap_table(hq)
    assert len(rows) == 3 + 4 + 4  # HZ-002 lacks three platforms, HZ-003 and SH-001 all four
    first = next(dict(zip(header, row)) for row in rows if row[1] == "HZ-002")
    assert first["门店编码"] == "HZ-002" and first["平台"] == "快手" and first["昵称"] == "林氏家居·杭州滨江店"
    assert first["账号"] == "" and first["待补"] == "缺快手账号"
    as_is = preview_import("accounts", read_table(to_csv(header, rows), "gaps.csv"))
    assert as_is.ok and as_is.counts["blank"] == 11 and not as_is.has_writes  # nothing filled: nothing written
    for n, row in enumerate([r for r in rows if r[1] != "SH-001"][:5]):  # HQ fills five, leaves the rest
        row[header.index("账号")] = f"lin_{n}"
    filled = preview_import("accounts", read_table(to_csv(header, rows), "gaps.csv"))
    assert filled.ok and (filled.counts["new"], filled.counts["blank"]) == (5, 6), [r.errors for r in filled.rows]
    apply_import(filled, hq)
    account = db.session.scalar(select(Account).where(Account.handle == "lin_0"))
    assert account.scope == AccountScope.STORE and account.display_name == "林氏家居·杭州滨江店"
    assert len(gaps_by_code(hq)["HZ-002"].missing) == 0


def test_the_group_gap_sheet_names_new_groups_and_completes_existing_ones(hq, chain):
    header, rows = gap_sheet.community_gap_table(hq)
    by_store = {row[1]: dict(zip(header, row)) for row in rows}
    assert set(by_store) == {"HZ-002", "HZ-003", "SH-001"}
    assert by_store["HZ-002"]["群名称"] == "滨江1群" and by_store["HZ-003"]["群名称"] == "杭州拱墅店·1群"
    for row in rows:
        row[header.index("邀请链接")] = f"https://work.weixin.qq.com/g/{row[1]}"
    preview = preview_import("communities", read_table(to_csv(header, rows), "groups.csv"))
    assert preview.ok and (preview.counts["new"], preview.counts["changed"]) == (2, 1)
    apply_import(preview, hq)
    assert all(not s.group_gap for s in gaps_by_code(hq).values())


def test_a_gap_sheet_header_never_leaks_into_exports_or_templates(app):
    from matrix.imports.exports import template_table

    assert "待补" not in template_table("accounts") and "待补" not in template_table("communities")


def test_handing_over_is_recorded_per_store_and_may_be_repeated(hq, chain):
    ids = [chain["HZ-002"].id, chain["HZ-003"].id]
    assert hand_over(ids, actor=hq, note="周五前补齐") == 2
    assert hand_over(ids[:1], actor=hq) == 1
    assert db.session.scalar(select(func.count()).select_from(Handover)) == 2
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "hand_over")).all()
    assert len(entries) == 3 and {e.store_id for e in entries} == set(ids)
    with pytest.raises(DomainError):
        hand_over([], actor=hq)


def test_a_manager_cannot_hand_over_other_stores(chain, make_user):
    manager = make_user(Role.STORE_MANAGER, stores=[chain["HZ-002"]])
    with pytest.raises(DomainError):
        hand_over([chain["SH-001"].id], actor=manager)


def test_a_manager_fills_an_account_and_a_group(chain, make_user, platforms):
    manager = make_user(Role.STORE_MANAGER, stores=[chain["HZ-003"]])
    store = chain["HZ-003"]
    add_store_account(store, platform=platforms["douyin"], handle="@gongshu_dy", profile_url="", display_name="拱墅店",
                      actor=manager)
    with pytest.raises(DomainError, match="QR code or its invite link"):
        fill_store_group(store, name="拱墅1群", invite_link="", qr_image=None, actor=manager)
    group = fill_store_group(store, name="拱墅1群", invite_link="", qr_image=png(), actor=manager)
    assert group.qr_mime == "image/png" and group.store_id == store.id
    gaps = gaps_by_code(manager)["HZ-003"]
    assert [p.code for p in gaps.missing] == ["kuaishou", "channels", "xiaohongshu"] and not gaps.group_gap


def test_completing_an_existing_group_keeps_its_settings(hq, chain):
    group = db.session.scalar(select(Community).where(Community.name == "滨江1群"))
    group.capacity = 300
    db.session.commit()
    fill_store_group(chain["HZ-002"], name="滨江1群", invite_link="https://work.weixin.qq.com/g/2", qr_image=None,
                     actor=hq, group=group)
    assert group.capacity == 300 and group.invite_link.endswith("/g/2")
    with pytest.raises(DomainError):
        fill_store_group(chain["HZ-003"], name="x", invite_link="https://a.b/c", qr_image=None, actor=hq, group=group)


def test_the_demo_hands_its_managers_the_gaps_of_their_stores(app):
    from matrix.auth.models import User
    from matrix.demo import build_demo
    from matrix.stores.models import store_managers

    build_demo(stores=40)
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    managed = list(db.session.scalars(select(store_managers.c.store_id)))
    incomplete = {s.id for s in chain_gaps(admin, store_ids=managed) if not s.complete}
    assert {h.store_id for h in db.session.scalars(select(Handover))} == incomplete
