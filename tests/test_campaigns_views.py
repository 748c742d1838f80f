"""Campaign screens: HQ only, forms with 422 on errors, preview with line errors, generating a week."""
import re
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from matrix.auth.models import Role
from matrix.campaigns import services
from matrix.content.models import Campaign, ContentItem, ContentTemplate
from matrix.extensions import db
from matrix.weeks import week_string

FORM = {"name": "双十二", "starts_on": "2026-11-01", "ends_on": "2026-12-31", "store_scope": "all",
        "short_video": "5", "image_post": "2", "live": "0", "trailer": "0", "slots": "12:00, 18:00, 20:30",
        "spacing_km": "0", "active": "y"}


@pytest.fixture
def hq(make_user, login):
    user = make_user(Role.OPERATOR)
    login(user)
    return user


@pytest.fixture
def campaign(app, make_user):
    admin = make_user(Role.ADMIN)
    c = services.create_campaign(actor=admin, name="双十二", starts_on=date.today() - timedelta(days=60),
                                 ends_on=date.today() + timedelta(days=400),
                                 store_scope="all", cadence={"short_video": 7}, slots="12:00, 18:00")
    services.add_template(c, actor=admin, kind="short_video", topic="上新", caption="{{ store_name }}上新啦",
                          script="镜头1\n镜头2 {{ district }}")
    return c


def test_store_manager_gets_403_everywhere(app, client, make_user, make_store, login, post, campaign):
    store = make_store()
    login(make_user(Role.STORE_MANAGER, stores=[store]))
    template = campaign.templates[0]
    cid, tid = campaign.id, template.id
    for url in ["/campaigns/", "/campaigns/new", f"/campaigns/{cid}", f"/campaigns/{cid}/edit",
                f"/campaigns/{cid}/delete", f"/campaigns/{cid}/preview", f"/campaigns/{cid}/templates/new",
                f"/campaigns/{cid}/templates/{tid}/edit", "/campaigns/tags"]:
        assert client.get(url).status_code == 403, url
    for url in [f"/campaigns/{cid}/generate", f"/campaigns/{cid}/delete", f"/campaigns/{cid}/templates/{tid}/delete",
                f"/campaigns/{cid}/templates/{tid}/move", f"/campaigns/{cid}/edit"]:
        assert post(url, {"week": "2026-W48"}).status_code == 403, url
    assert db.session.scalar(select(func.count()).select_from(ContentItem)) == 0
    assert "/campaigns/" not in client.get("/").get_data(as_text=True)


def test_anonymous_is_sent_to_login(client, campaign):
    assert client.get("/campaigns/").status_code == 302


def test_create_campaign_through_the_form(hq, client, post, platforms):
    assert client.get("/campaigns/new").status_code == 200
    response = post("/campaigns/new", {**FORM, "platform_ids": [str(platforms["douyin"].id)]})
    assert response.status_code == 302
    c = db.session.scalar(select(Campaign))
    assert c.cadence == {"short_video": 5, "image_post": 2} and c.platform_ids == [platforms["douyin"].id]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "双十二" in page and "12:00 · 18:00 · 20:30" in page


def test_invalid_campaign_is_422_and_keeps_the_input(hq, client, post):
    with force_locale("en"):
        response = post("/campaigns/new", {**FORM, "slots": "12:00, 26:00"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "26:00" in html and db.session.scalar(select(Campaign)) is None


def test_edit_shows_list_scope_as_codes(hq, client, post, make_store, campaign):
    make_store(code="HZ-77")
    response = post(f"/campaigns/{campaign.id}/edit", {**FORM, "store_scope": "list", "store_codes": "HZ-77"})
    assert response.status_code == 302
    assert "HZ-77" in client.get(f"/campaigns/{campaign.id}/edit").get_data(as_text=True)


def test_template_with_a_syntax_error_is_422_with_its_line(hq, post, campaign):
    with force_locale("en"):
        response = post(f"/campaigns/{campaign.id}/templates/new",
                        {"kind": "short_video", "topic": "坏模板", "caption": "第一行\n{{ store_name "})
    assert response.status_code == 422
    assert "Line 2" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ContentTemplate)) == 1


def test_template_add_edit_move_delete(hq, client, post, campaign):
    cid = campaign.id
    assert post(f"/campaigns/{cid}/templates/new", {"kind": "image_post", "topic": "图文", "caption": "{{ city }}"}
                ).status_code == 302
    second = db.session.scalar(select(ContentTemplate).where(ContentTemplate.topic == "图文"))
    assert client.get(f"/campaigns/{cid}/templates/{second.id}/edit").status_code == 200
    assert post(f"/campaigns/{cid}/templates/{second.id}/edit", {"kind": "image_post", "topic": "图文2"}
                ).status_code == 302
    assert post(f"/campaigns/{cid}/templates/{second.id}/move", {"direction": "up"}).status_code == 302
    db.session.expire_all()
    assert [t.topic for t in db.session.get(Campaign, cid).templates] == ["图文2", "上新"]
    assert post(f"/campaigns/{cid}/templates/{second.id}/delete").status_code == 302
    assert db.session.get(ContentTemplate, second.id) is None


def test_template_of_another_campaign_is_404(hq, client, make_user, campaign):
    other = services.create_campaign(actor=make_user(Role.ADMIN), name="x", starts_on=date(2026, 1, 1),
                                     ends_on=date(2026, 1, 31), store_scope="all", cadence={"short_video": 1},
                                     slots="12:00")
    tid = campaign.templates[0].id
    assert client.get(f"/campaigns/{other.id}/templates/{tid}/edit").status_code == 404


def test_preview_renders_for_a_store_and_escapes(hq, client, make_store, campaign):
    store = make_store(code="HZ-5", name="栖木家居·<b>西湖</b>店")
    html = client.get(f"/campaigns/{campaign.id}/preview?store=HZ-5&week=2026-W48").get_data(as_text=True)
    assert "栖木家居·&lt;b&gt;西湖&lt;/b&gt;店上新啦" in html and "<b>西湖</b>" not in html
    assert "西湖区" in html and 'value="HZ-5"' in html
    assert store.code in html


def test_preview_shows_errors_next_to_their_line(hq, client, make_store, campaign):
    template = campaign.templates[0]
    template.script = "镜头1\n镜头2\n{{ 10 // (store_code|length - 4) }}"  # saved before the checks, or data-dependent
    db.session.commit()
    make_store(code="HZ-5")
    with force_locale("en"):
        html = client.get(f"/campaigns/{campaign.id}/preview?store=HZ-5").get_data(as_text=True)
    assert html.count('class="error-line"') == 1
    assert "ZeroDivisionError" in html
    assert client.get(f"/campaigns/{campaign.id}/preview?store=NOPE").status_code == 200


def test_preview_and_help_never_show_another_chains_names(hq, client, campaign, make_store):
    html = client.get(f"/campaigns/{campaign.id}/preview").get_data(as_text=True)
    assert "The store&#39;s name上新啦" in html and "栖木" not in html  # no store yet: placeholders
    make_store(code="NJ-001", name="南京新街口店", city="南京", district="玄武区")
    html = client.get(f"/campaigns/{campaign.id}/preview").get_data(as_text=True)
    assert "南京新街口店上新啦" in html and "栖木" not in html
    help_box = client.get(f"/campaigns/{campaign.id}/templates/new").get_data(as_text=True)
    assert "南京新街口店" in help_box and "栖木" not in help_box


def test_generate_from_the_campaign_page(hq, client, post, make_store, make_account, campaign):
    for _ in range(2):
        make_account(make_store(), "douyin")
    week = week_string(date.today() + timedelta(days=7))  # a whole week ahead: every slot is planned
    page = client.get(f"/campaigns/{campaign.id}?week={week}").get_data(as_text=True)
    assert f'<option selected value="{week}">' in page
    response = post(f"/campaigns/{campaign.id}/generate", {"week": week})
    assert response.status_code == 302 and f"week={week}" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(ContentItem)) == 14
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert week in html and "14" in html
    again = post(f"/campaigns/{campaign.id}/generate", {"week": week})
    assert again.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ContentItem)) == 14


def test_generate_needs_csrf_and_a_valid_week(hq, client, post, campaign):
    assert client.post(f"/campaigns/{campaign.id}/generate", data={"week": "2026-W48"}).status_code == 400
    assert post(f"/campaigns/{campaign.id}/generate", {"week": "2026-W60"}).status_code == 302
    assert post(f"/campaigns/{campaign.id}/generate", {"week": "2025-W02"}).status_code == 302  # outside: flashed
    assert db.session.scalar(select(func.count()).select_from(ContentItem)) == 0


def test_delete_campaign(hq, client, post, campaign):
    assert client.get(f"/campaigns/{campaign.id}/delete").status_code == 200
    assert post(f"/campaigns/{campaign.id}/delete").status_code == 302
    assert db.session.scalar(select(Campaign)) is None


def test_tags_page(hq, client, post, make_store):
    store = make_store(code="HZ-8")
    assert post("/campaigns/tags", {"store_code": "HZ-8", "tags": "旗舰店, 新店"}).status_code == 302
    assert services.store_tags_of([store.id]) == {store.id: ["新店", "旗舰店"]}
    assert post("/campaigns/tags", {"store_code": "NOPE", "tags": "x"}).status_code == 422
    assert "旗舰店" in client.get("/campaigns/tags").get_data(as_text=True)


def test_index_lists_campaigns(hq, client, campaign):
    html = client.get("/campaigns/").get_data(as_text=True)
    assert "双十二" in html and f"/campaigns/{campaign.id}" in html


def test_the_campaign_form_offers_the_chains_cities(hq, client, post, make_store):
    make_store(code="HZ-1", city="杭州")
    make_store(code="SH-1", city="上海", district="徐汇区")
    html = client.get("/campaigns/new").get_data(as_text=True)
    offered = set(re.findall(r'name="cities"[^>]*value="(\d{6})"', html))
    assert offered == {"330100", "310100"}, offered  # not the 370 cities of China
    response = post("/campaigns/new", {**FORM, "store_scope": "city", "cities": ["330100"], "short_video": "1",
                                       "image_post": "0"})
    assert response.status_code == 302
    campaign = db.session.scalar(select(Campaign).order_by(Campaign.id.desc()))
    assert campaign.scope_values == ["330100"]
    edit = client.get(f"/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert re.search(r'checked[^>]*value="330100"|value="330100"[^>]*checked', edit)


def test_spacing_clashes_are_named_and_fixed_from_the_campaign_page(hq, client, post, make_store, make_account,
                                                                    campaign):
    for code in ("HZ-1", "HZ-2", "HZ-3"):
        make_account(make_store(code=code), "douyin")  # one template, two slots, three stores: clashes
    week = week_string(date.today() + timedelta(days=7))
    post(f"/campaigns/{campaign.id}/generate", {"week": week})
    html = client.get(f"/campaigns/{campaign.id}?week={week}").get_data(as_text=True)
    assert 'id="clashes"' in html and "HZ-1" in html and "HZ-3" in html and "上新" in html
    assert client.post(f"/campaigns/{campaign.id}/spacing", data={"week": week}).status_code == 400  # no CSRF
    response = post(f"/campaigns/{campaign.id}/spacing", {"week": week})
    assert response.status_code == 302 and f"week={week}" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # Two slots a day, one template and three stores: no slot is free, and the page says so, naming the store.
    assert "0 stores moved to a free slot" in page and "HZ-3" in page and "no free slot this week" in page
