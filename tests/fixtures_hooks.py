"""Lead webhooks for the suite: a generic signed source (generic), and helpers that sign and deliver a payload."""
import json

import pytest
from sqlalchemy import func, select

from matrix.extensions import db
from matrix.leads import signatures
from matrix.leads.models import RejectedDelivery
from matrix.leads.sources import create_source

PHONE = "13912345678"
LEAD = {"id": "L-1", "name": "王小明", "phone": PHONE, "city": "杭州", "district": "西湖区", "address": "文三路 100 号"}


@pytest.fixture
def operator(make_user):
    return make_user()


@pytest.fixture
def generic(app, operator):
    return create_source(name="官网表单", kind="generic", slug="site-form", actor=operator)


def body_of(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def deliver(client, source, secret, payload, *, headers=None, now=None, raw=None):
    body = raw if raw is not None else body_of(payload)
    signed = signatures.sign(source, secret, body, now=now)
    return client.post(f"/hooks/{source.slug}", data=body, content_type="application/json",
                       headers={**signed, **(headers or {})})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def rejections() -> list[RejectedDelivery]:
    return db.session.scalars(select(RejectedDelivery).order_by(RejectedDelivery.id)).all()
