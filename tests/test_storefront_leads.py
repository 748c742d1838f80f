"""The store page's lead form: consent required, bots and floods refused, the lead lands at this store with its alert."""
from sqlalchemy import func, select

from matrix.audit.models import AuditEntry
from matrix.extensions import db
from matrix.leads.models import Lead, LeadNote, RoutingRule
from matrix.leads.phones import decrypt_phone
from matrix.notifications.models import Notification
from matrix.storefront.models import ConsentVersion, LeadConsent
from matrix.storefront.settings import update_settings


def lead_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Lead))


def test_a_visitor_leaves_a_lead_routed_to_this_store_with_consent_and_alert(client, storefront, leave):
    store = storefront["store_a"]
    response = leave(store, channel="poster", phone="+86 138-0013-8000")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/s/HZ-001/thanks?c=poster")
    assert "Set-Cookie" not in response.headers
    lead = db.session.scalar(select(Lead))
    assert lead.store_id == store.id and lead.routing_rule == RoutingRule.SOURCE
    assert lead.phone_masked == "138****8000" and decrypt_phone(lead.phone_encrypted) == "13800138000"
    assert lead.name == "王女士" and lead.source.slug == "store-page"
    assert lead.community_id is not None  # the current group (西湖店3群), not the full or paused one
    consent = db.session.get(LeadConsent, lead.id)
    version = db.session.get(ConsentVersion, consent.consent_version_id)
    assert (consent.store_id, consent.channel, version.consent_text) == (store.id, "poster", "我同意门店致电联系我。")
    assert consent.given_at is not None
    assert "想看沙发" in db.session.scalar(select(LeadNote.body).where(LeadNote.lead_id == lead.id))
    assert db.session.scalar(select(func.count()).select_from(Notification).where(Notification.lead_id == lead.id)) >= 1
    assert db.session.scalar(select(AuditEntry.summary).where(AuditEntry.entity == "lead")).startswith("Lead #")
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "栖木家居·杭州西湖店" in thanks and "/s/HZ-001/join?c=poster" in thanks


def test_the_same_number_the_same_day_is_one_lead(storefront, leave):
    assert leave(storefront["store_a"]).status_code == 303
    assert leave(storefront["store_a"], phone="138 0013 8000").status_code == 303
    assert lead_count() == 1


def test_consent_is_required(storefront, leave):
    response = leave(storefront["store_a"], consent=None)
    assert response.status_code == 422
    assert "Tick the box" in response.get_data(as_text=True)
    assert lead_count() == 0


def test_a_bad_phone_number_is_refused_with_the_form_kept(storefront, leave):
    response = leave(storefront["store_a"], phone="12345", name="李先生")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "can be dialled" in html and 'value="李先生"' in html
    assert lead_count() == 0


def test_a_bot_filling_the_hidden_field_is_thanked_and_ignored(storefront, leave):
    response = leave(storefront["store_a"], website="http://spam.example")
    assert response.status_code == 303
    assert lead_count() == 0


def test_a_form_sent_at_once_after_the_page_was_served_is_asked_again(client, storefront, leave):
    html = client.get("/s/HZ-001").get_data(as_text=True)
    token = html.split('name="token" value="')[1].split('"')[0]
    response = leave(storefront["store_a"], token=token)
    assert response.status_code == 422 and "That was quick" in response.get_data(as_text=True)
    assert lead_count() == 0


def test_forged_or_foreign_tokens_are_refused(storefront, leave, form_token):
    assert leave(storefront["store_a"], token="").status_code == 400
    assert leave(storefront["store_a"], token="5f.aaaaaaaaaaaa.bbbb").status_code == 400
    assert leave(storefront["store_a"], token=form_token(storefront["store_b"])).status_code == 400
    assert lead_count() == 0


def test_a_changed_consent_text_must_be_agreed_again(storefront, leave, form_token):
    token = form_token(storefront["store_a"])
    update_settings({"lead_form": True, "privacy_text": "新的声明", "consent_text": "新的同意文字",
                     "poster_size": "A4", "poster_accent": "red"}, actor=storefront["hq"])
    response = leave(storefront["store_a"], token=token)
    assert response.status_code == 422 and "新的同意文字" in response.get_data(as_text=True)
    assert lead_count() == 0


def test_an_oversized_body_is_refused_cleanly(storefront, leave):
    response = leave(storefront["store_a"], wants="想" * 5000)
    assert response.status_code == 413
    assert "Set-Cookie" not in response.headers and lead_count() == 0


def test_a_post_from_another_site_is_refused(client, storefront, form_token):
    response = client.post("/s/HZ-001", data={"phone": "13800138000", "consent": "y",
                                              "token": form_token(storefront["store_a"])},
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and lead_count() == 0


def test_a_flood_from_one_address_is_refused(app, client, storefront, leave, tight):
    tight(public_form="10 per minute; 60 per hour")
    codes = [leave(storefront["store_a"], phone=f"1380013{n:04d}").status_code for n in range(12)]
    assert codes[:10] == [303] * 10 and codes[10:] == [429, 429]
    assert lead_count() == 10
    tight(public_page="3 per minute")
    pages = [client.get("/s/HZ-001").status_code for _ in range(4)]
    assert pages == [200, 200, 200, 429]


def test_no_form_until_hq_gives_a_privacy_notice(client, storefront, leave):
    update_settings({"lead_form": False, "consent_text": "同意", "poster_size": "A4", "poster_accent": "red"},
                    actor=storefront["hq"])
    assert 'name="phone"' not in client.get("/s/HZ-001").get_data(as_text=True)
    assert leave(storefront["store_a"]).status_code == 404
    assert lead_count() == 0


def test_the_lead_stays_with_this_store_even_with_a_place_elsewhere(storefront, leave):
    """The visitor chose this store's page: source routing comes first, as for a lead typed in for a store."""
    store_b = storefront["store_b"]
    assert leave(store_b, wants="我在上海").status_code == 303
    assert db.session.scalar(select(Lead.store_id)) == store_b.id
