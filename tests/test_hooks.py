"""Lead webhooks: signatures per scheme, idempotence, refusals that store only a reason, speed without network."""
import hashlib
import json
import socket
import time

import pytest
from fixtures_hooks import LEAD, PHONE, body_of, count, deliver, rejections
from sqlalchemy import select

from matrix.extensions import db
from matrix.leads import signatures
from matrix.leads.models import Lead
from matrix.leads.sources import create_source, manual_source, update_source
from matrix.notifications.models import Notification


def test_signed_generic_lead_is_stored_and_answered(client, generic):
    source, secret = generic
    response = deliver(client, source, secret, LEAD)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["ok"] is True and response.get_json()["duplicate"] is False
    lead = db.session.get(Lead, response.get_json()["lead_id"])
    assert lead.source_id == source.id and lead.external_id == "L-1" and lead.name == "王小明"
    assert lead.phone_masked == "139****5678" and lead.city_text == "杭州 西湖区"
    assert PHONE not in json.dumps(lead.raw_payload, ensure_ascii=False)


def test_the_same_delivery_three_times_makes_one_lead(client, generic):
    source, secret = generic
    answers = [deliver(client, source, secret, LEAD).get_json() for _ in range(3)]
    assert [a["duplicate"] for a in answers] == [False, True, True]
    assert count(Lead) == 1


def test_a_lead_without_an_id_dedupes_on_its_body(client, generic):
    source, secret = generic
    payload = {k: v for k, v in LEAD.items() if k != "id"}
    for _ in range(3):
        assert deliver(client, source, secret, payload).status_code == 200
    assert count(Lead) == 1


@pytest.mark.parametrize("case, status, code", [
    ("bad_signature", 403, "bad_signature"), ("missing_signature", 403, "missing_signature"),
    ("stale", 403, "stale_timestamp"), ("future", 403, "future_timestamp"), ("bad_json", 400, "bad_json"),
    ("array", 400, "not_object"), ("no_contact", 422, "missing_field"), ("bad_phone", 422, "invalid_field"),
    ("too_large", 413, "too_large"),
])
def test_refused_deliveries_answer_json_and_store_only_a_reason(client, generic, case, status, code):
    source, secret = generic
    body, headers, now = body_of(LEAD), {}, None
    if case == "bad_signature":
        headers = {"X-Signature": "0" * 64}
    elif case == "missing_signature":
        headers = {"X-Signature": ""}
    elif case == "stale":
        now = time.time() - 301
    elif case == "future":
        now = time.time() + 301
    elif case == "bad_json":
        body = b'{"id": "L-1", "phone": "' + PHONE.encode() + b'"'
    elif case == "array":
        body = body_of([LEAD])
    elif case == "no_contact":
        body = body_of({"name": "王小明", "city": "杭州"})
    elif case == "bad_phone":
        body = body_of({**LEAD, "phone": "12345"})
    elif case == "too_large":
        body = body_of({**LEAD, "padding": "x" * (64 * 1024)})
    response = deliver(client, source, secret, None, raw=body, headers=headers, now=now)
    assert response.status_code == status
    assert response.get_json()["code"] == code and response.get_json()["error"]
    assert count(Lead) == 0 and count(Notification) == 0
    [record] = rejections()
    assert record.reason.startswith(code) and record.status_code == status and record.source_id == source.id
    assert record.source_slug == "site-form" and record.remote_addr == "127.0.0.1" and record.body_bytes > 0
    assert PHONE not in repr(record.__dict__) and "王小明" not in repr(record.__dict__)


def test_missing_field_is_named(client, generic):
    source, secret = generic
    answer = deliver(client, source, secret, {"name": "无电话"}).get_json()
    assert "phone" in answer["error"] and "external_id" in answer["error"]


def test_unknown_inactive_and_built_in_sources_answer_404(client, generic, operator):
    source, secret = generic
    assert client.post("/hooks/no-such-source", data=body_of(LEAD), content_type="application/json").status_code == 404
    update_source(source, name=source.name, active=False, actor=operator)
    assert deliver(client, source, secret, LEAD).status_code == 404
    manual_source()
    db.session.commit()
    assert client.post("/hooks/manual", data=body_of(LEAD), content_type="application/json").status_code == 404
    assert [r.reason for r in rejections()] == ["unknown_source"] * 3 and count(Lead) == 0
    assert rejections()[1].source_id is None  # inactive sources are not told apart from unknown ones


def test_webhook_answers_fast_without_any_network_call(client, generic, make_store, make_community, monkeypatch):
    store = make_store(code="HZ-9", lon=120.13, lat=30.26, service_radius_km=5)
    make_community(store, robot_webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=fast-key")
    source, secret = generic

    def no_network(self, address):
        raise AssertionError(f"network call to {address} inside the webhook request")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    started = time.perf_counter()
    response = deliver(client, source, secret, {**LEAD, "lon": 120.131, "lat": 30.261, "coord_system": "wgs84"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and elapsed < 1.0
    lead = db.session.get(Lead, response.get_json()["lead_id"])
    assert lead.store_id == store.id
    assert count(Notification) >= 1  # only queued: the worker sends it later


def test_douyin_answers_its_challenge_and_dedupes_on_msg_id(client, operator):
    source, secret = create_source(name="抖音应用", kind="douyin", slug="douyin-app", secret="dy-client-secret",
                                   actor=operator)
    verify = {"event": "verify_webhook", "client_key": "ck", "content": {"challenge": 12345}}
    assert deliver(client, source, secret, verify).get_json() == {"challenge": 12345}
    event = {"event": "clue_push", "client_key": "ck", "from_user_id": "u1", "to_user_id": "store-open-id",
             "content": json.dumps({"name": "抖音用户", "telephone": PHONE, "city": "杭州"}, ensure_ascii=False)}
    body = body_of(event)
    expected = hashlib.sha1(b"dy-client-secret" + body).hexdigest()
    assert signatures.sign(source, secret, body)["X-Douyin-Signature"] == expected
    for _ in range(3):
        assert deliver(client, source, secret, event, headers={"Msg-Id": "m-1"}).status_code == 200
    lead = db.session.scalar(select(Lead))
    assert count(Lead) == 1 and lead.external_id == "msg:m-1" and lead.phone_masked == "139****5678"
    assert PHONE not in json.dumps(lead.raw_payload, ensure_ascii=False)
    wrong = deliver(client, source, "other-secret", event, headers={"Msg-Id": "m-2"})
    assert wrong.status_code == 403 and count(Lead) == 1


def test_ocean_engine_clue_maps_its_fields_and_names_the_store(client, operator, make_store):
    store = make_store(code="SH-007", city="上海", district="徐汇区", lon=121.43, lat=31.18)
    source, secret = create_source(name="巨量引擎", kind="oceanengine", slug="ocean", secret="ocean-app-secret",
                                   actor=operator)
    clue = {"clue_id": 7012345678901234567, "name": "线索", "telephone": PHONE, "province": "上海",
            "city": "上海", "location": "上海市徐汇区漕溪北路", "adv_id": 1, "ad_id": 99, "creative_id": 98,
            "create_time": "2024-05-01 10:00:00", "store": {"store_id": "SH-007"}}
    response = deliver(client, source, secret, clue)
    assert response.status_code == 200, response.get_json()
    lead = db.session.get(Lead, response.get_json()["lead_id"])
    assert lead.external_id == "7012345678901234567"  # 19 digits kept exactly, never through a float
    assert lead.source_store_id == store.id and lead.ad_id == "99" and lead.creative_id == "98"
    assert lead.created_at_source.hour == 2  # 10:00 in Shanghai
    assert lead.address_text == "上海市徐汇区漕溪北路"


def test_kuaishou_md5_signature(client, operator):
    source, secret = create_source(name="快手", kind="kuaishou", slug="kwai", secret="kw-secret", actor=operator)
    body = body_of({"clue_id": "k1", "phone": PHONE})
    assert signatures.sign(source, secret, body)["kwaisign"] == hashlib.md5(body + b"kw-secret").hexdigest()
    assert deliver(client, source, secret, None, raw=body).status_code == 200
    assert deliver(client, source, secret, None, raw=body, headers={"kwaisign": "f" * 32}).status_code == 403


def test_a_source_can_switch_scheme_and_field_map_by_data(client, generic, operator):
    source, secret = generic
    update_source(source, name=source.name, signature_scheme="douyin_sha1",
                  field_map={"phone": "contact.mobile", "external_id": "ref"}, actor=operator)
    payload = {"ref": "R-5", "contact": {"mobile": PHONE}}
    body = body_of(payload)
    timestamped = signatures.SCHEMES["hmac_sha256_ts"].sign(secret, body, time.time())
    refused = client.post("/hooks/site-form", data=body, content_type="application/json", headers=timestamped)
    assert refused.status_code == 403
    response = deliver(client, source, secret, payload)
    assert response.status_code == 200
    assert db.session.get(Lead, response.get_json()["lead_id"]).external_id == "R-5"


def test_a_forged_delivery_for_a_store_source_changes_nothing(client, operator, make_store):
    store = make_store(code="B-900")
    source, _secret = create_source(name="乙门店表单", kind="generic", slug="b-form", store_id=store.id, actor=operator)
    response = deliver(client, source, "forged-secret", LEAD)
    assert response.status_code == 403 and count(Lead) == 0 and len(rejections()) == 1


def test_a_flood_of_forged_deliveries_is_refused_but_logged_only_a_few_times_a_minute(client, generic, monkeypatch):
    from matrix.leads import intake

    monkeypatch.setattr(intake, "REJECTIONS_LOGGED_PER_ADDRESS", 5)
    monkeypatch.setattr(intake, "REJECTIONS_LOGGED_PER_MINUTE", 8)
    source, _secret = generic
    answers = {deliver(client, source, "forged-secret", LEAD).status_code for _ in range(7)}
    assert answers == {403} and len(rejections()) == 5                      # one address: 5 a minute
    other = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(5):
        client.post(f"/hooks/{source.slug}", data=body_of(LEAD), content_type="application/json",
                    environ_base=other)
    assert len(rejections()) == 8 and count(Lead) == 0                      # and 8 a minute in all


def test_readme_curl_example_works_against_the_demo(app):
    """Run the README's shell lines with curl against the demo chain served on a loopback port."""
    import pathlib
    import re
    import subprocess
    import threading

    from werkzeug.serving import make_server

    from matrix.demo import build_demo

    summary = build_demo(rng_seed=3, stores=12)
    assert summary.lead_source == ("demo-generic", "demo-webhook-secret-2026")
    readme = (pathlib.Path(app.root_path).parent / "README.md").read_text()
    section = readme.split("## Lead webhooks", 1)[1]
    script = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        script = script.replace("http://127.0.0.1:5000", f"http://127.0.0.1:{server.server_port}")
        answers = [json.loads(subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=20,
                                             check=True).stdout) for _ in range(2)]
    finally:
        server.shutdown()
    assert answers[0]["ok"] is True and answers[0]["duplicate"] is False and answers[1]["duplicate"] is True
    db.session.expire_all()
    lead = db.session.get(Lead, answers[0]["lead_id"])
    assert lead.phone_masked == "138****8000" and lead.city_text == "杭州 西湖区"


def test_the_same_lead_delivered_at_the_same_moment_is_still_one_lead(app, generic):
    """Three deliveries racing (threads, own sessions): the unique (source, lead id) keeps one."""
    import threading

    source, secret = generic
    body = body_of(LEAD)
    headers = signatures.sign(source, secret, body)
    barrier, answers = threading.Barrier(3), []

    def send():
        client = app.test_client()
        barrier.wait()
        answers.append(client.post("/hooks/site-form", data=body, content_type="application/json", headers=headers))
    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(a.status_code for a in answers) == [200, 200, 200]
    assert sorted(a.get_json()["duplicate"] for a in answers) == [False, True, True]
    assert len({a.get_json()["lead_id"] for a in answers}) == 1
    db.session.expire_all()
    assert count(Lead) == 1
