"""Rate limits on sign-in and the webhooks, shared across processes through Redis, ready for public pages."""
import uuid

import pytest
import redis
from fixtures_auth import sign_in
from flask import Flask
from sqlalchemy import func, select

from matrix.extensions import db
from matrix.leads.models import RejectedDelivery
from matrix.ops import ratelimit
from matrix.ops.ratelimit import RateLimits, rate_limited

REDIS = "redis://127.0.0.1:6379/15"


def test_sign_in_posts_are_limited_per_address(app, client, make_user, tight):
    tight(sign_in="3 per minute")
    user = make_user()
    answers = [sign_in(client, user.username, "wrong-wrong-wrong").status_code for _ in range(4)]
    assert answers == [401, 401, 401, 429]
    limited = sign_in(client, user.username)
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert client.get("/login").status_code == 200  # reading the form is not limited


def test_a_webhook_flood_is_answered_429_without_touching_the_database(app, client, tight):
    tight(webhook="5 per second; 100 per minute")
    answers = [client.post("/hooks/no-such-source", data=b"{}") for _ in range(7)]
    assert [a.status_code for a in answers] == [404] * 5 + [429] * 2
    assert answers[-1].get_json()["code"] == "rate_limited" and answers[-1].headers["Retry-After"] == "1"
    assert db.session.scalar(select(func.count()).select_from(RejectedDelivery)) == 5


def test_a_public_page_can_take_a_limit():
    """The store's public page and its lead form (built later) use the same decorator with their names."""
    app = Flask(__name__)
    app.config.update(RATELIMIT_STORAGE_URI="memory://", RATE_LIMITS={"public_form": "2 per minute"})
    ratelimit.register(app)

    @app.post("/s/<code>/lead")
    @rate_limited("public_form", methods=("POST",))
    def lead_form(code):
        return "ok"

    client = app.test_client()
    assert [client.post("/s/HZ-1/lead").status_code for _ in range(3)] == [200, 200, 429]


def test_a_broken_store_lets_requests_through_and_says_so():
    limits = RateLimits("redis://127.0.0.1:1/0", {"webhook": "1 per minute"})
    assert [limits.hit("webhook", "198.51.100.1") for _ in range(3)] == [0, 0, 0]
    assert not limits.healthy()


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379 (CI starts one)")
def test_two_processes_share_the_counts_in_redis():
    limits = {"webhook": "3 per minute"}
    first, second = RateLimits(REDIS, limits), RateLimits(REDIS, limits)  # two web processes
    address = f"test-{uuid.uuid4().hex}"
    assert [first.hit("webhook", address), second.hit("webhook", address), first.hit("webhook", address)] == [0] * 3
    assert second.hit("webhook", address) > 0 and first.hit("webhook", address) > 0
    assert first.hit("webhook", "another-" + address) == 0
    assert first.healthy()
