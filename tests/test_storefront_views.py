"""HQ's store-page screens: the numbers, the settings, and the posters (one per store, QR codes that read right)."""
import re

from qr_reading import decode_svgs
from sqlalchemy import func, select

from matrix import demo
from matrix.audit.models import AuditEntry
from matrix.extensions import db
from matrix.leads.models import Lead
from matrix.storefront.counting import PageCounter, flush_counts, local_day
from matrix.storefront.models import LeadConsent, PageCount
from matrix.storefront.settings import storefront_settings
from matrix.stores.models import Store, StoreStatus

SETTINGS = {"lead_form": "y", "privacy_url": "https://example.com/privacy", "privacy_text": "",
            "consent_text": "同意致电", "poster_size": "A5", "poster_accent": "green",
            "poster_headline": "欢迎来到{{ store_name }}", "poster_body": "{% if next_live %}直播：{{ next_live }}{% endif %}",
            "poster_footer": "{{ address }} {{ opening_hours }}"}


def test_hq_sees_views_and_join_clicks_per_channel_and_store(client, login, storefront):
    counter = PageCounter()
    today = local_day("Asia/Shanghai")
    counter.add((storefront["store_a"].id, "poster", today), views=12, joins=5)
    counter.add((storefront["store_b"].id, "bio", today), views=3)
    flush_counts(counter)
    login(storefront["hq"])
    html = client.get("/storefront/?days=30").get_data(as_text=True)
    assert "HZ-001" in html and "12 / 5" in html and "3 / 0" in html
    assert '<svg class="sf-bars"' in html and "42%" in html  # 5 of 12


def test_store_managers_see_neither_the_chain_report_nor_the_settings(client, login, storefront):
    login(storefront["manager"])
    assert client.get("/storefront/").status_code == 403
    assert client.get("/storefront/settings").status_code == 403


def test_hq_saves_the_settings_with_an_audit_entry(client, login, post, storefront):
    login(storefront["hq"])
    response = post("/storefront/settings", data=SETTINGS)
    assert response.status_code == 302
    settings = storefront_settings()
    assert (settings.privacy_url, settings.poster_size, settings.poster_accent) == \
        ("https://example.com/privacy", "A5", "green")
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "storefront_settings")
                             .order_by(AuditEntry.id.desc())).actor_id == storefront["hq"].id


def test_a_poster_template_reaching_outside_the_sandbox_is_refused(client, login, post, storefront):
    login(storefront["hq"])
    response = post("/storefront/settings", data={**SETTINGS, "poster_headline": "{{ config }}"})
    assert response.status_code == 422 and "config" in response.get_data(as_text=True)
    assert storefront_settings().poster_headline != "{{ config }}"


def test_posters_of_a_city_one_per_store_with_qr_codes_that_read_right(client, login, storefront):
    login(storefront["hq"])
    city = storefront["store_a"].city_code
    html = client.get(f"/storefront/posters?city={city}").get_data(as_text=True)
    assert len(re.findall(r'<section class="poster poster-A4', html)) == 2
    first = html.split('data-store="HZ-001"')[1].split("</section>")[0]
    assert "扫码进栖木家居·杭州西湖店福利群" in first and "冬季新品直播" in first
    assert decode_svgs(first) == ["http://localhost/s/HZ-001?c=poster", "http://localhost/s/HZ-001/join?c=poster",
                                  "https://www.douyin.com/user/qimu_xihu"]
    # Store B's poster reads only B's codes: nothing of A on it, nothing of B on A's.
    second = html.split('data-store="HZ-002"')[1].split("</section>")[0]
    assert all("HZ-002" in url for url in decode_svgs(second)) and "HZ-002" not in first


def test_a_store_manager_prints_only_their_own_stores_poster(client, login, storefront):
    login(storefront["manager"])
    own = client.get(f"/storefront/posters?store_id={storefront['store_a'].id}")
    assert own.status_code == 200 and own.get_data(as_text=True).count('class="poster poster-') == 1
    assert client.get(f"/storefront/posters?store_id={storefront['store_b'].id}").status_code == 404
    city = client.get(f"/storefront/posters?city={storefront['store_a'].city_code}").get_data(as_text=True)
    assert "乙门店隐私" not in city


def test_the_store_page_shows_base_url_links_on_posters(app, client, login, storefront):
    app.config["BASE_URL"] = "https://m.qimu.example"
    try:
        login(storefront["hq"])
        html = client.get(f"/storefront/posters?store_id={storefront['store_a'].id}&size=A5").get_data(as_text=True)
    finally:
        app.config["BASE_URL"] = None
    assert "poster-A5" in html
    assert decode_svgs(html)[0] == "https://m.qimu.example/s/HZ-001?c=poster"


def test_the_demo_has_store_pages_with_join_codes_counts_and_page_leads(app, client):
    demo.build_demo(rng_seed=7, stores=36)
    store = db.session.scalar(select(Store).where(Store.status == StoreStatus.OPEN).order_by(Store.id))
    html = client.get(f"/s/{store.code}?c=poster").get_data(as_text=True)
    assert store.opening_hours in html and "/join?c=poster" in html and 'name="phone"' in html
    assert db.session.scalar(select(func.sum(PageCount.views))) > 0
    assert db.session.scalar(select(func.count()).select_from(LeadConsent)) == 3
    assert db.session.scalar(select(func.count()).select_from(Lead).join(LeadConsent)) == 3
