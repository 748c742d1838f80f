"""HQ's reference files of templates: sniffed types, size and length caps, who may download, the item page."""
import struct

import pytest
from fixtures_plans import MONDAY
from flask import url_for
from samples import png
from sqlalchemy import func, select

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.campaigns import services as campaigns
from matrix.content.models import Campaign, ContentTemplate, ItemStatus
from matrix.errors import DomainError, NotFound
from matrix.extensions import db
from matrix.materials import services
from matrix.materials.models import Material
from matrix.materials.sniffing import movie_seconds, sniff


def box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def mp4(seconds: float, *, version: int = 0, brand: bytes = b"isom", moov_last: bool = True) -> bytes:
    """A minimal ISO media file: ftyp, mdat, and moov/mvhd with the duration (timescale 1000)."""
    if version == 1:
        mvhd = bytes([1, 0, 0, 0]) + struct.pack(">QQIQ", 0, 0, 1000, int(seconds * 1000)) + bytes(80)
    else:
        mvhd = bytes(4) + struct.pack(">IIII", 0, 0, 1000, int(seconds * 1000)) + bytes(80)
    moov, mdat = box(b"moov", box(b"mvhd", mvhd)), box(b"mdat", b"\x00" * 64)
    ftyp = box(b"ftyp", brand + b"\x00\x00\x02\x00" + b"isommp41")
    return ftyp + (mdat + moov if moov_last else moov + mdat)


JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
GIF = b"GIF89a" + struct.pack("<HH", 640, 480) + b"\x00" * 32
WEBP = b"RIFF" + struct.pack("<I", 30) + b"WEBPVP8 " + b"\x00" * 30


def test_types_come_from_the_bytes():
    assert (sniff(png(200, 100)).mime, sniff(png(200, 100)).width) == ("image/png", 200)
    assert sniff(JPEG).mime == "image/jpeg" and sniff(GIF).height == 480 and sniff(WEBP).mime == "image/webp"
    assert (sniff(mp4(15)).kind, sniff(mp4(15)).duration_s) == ("video", 15.0)
    assert sniff(mp4(15, brand=b"qt  ")).mime == "video/quicktime"
    assert movie_seconds(mp4(62.5, version=1, moov_last=False)) == 62.5
    for other in (b"%PDF-1.7", b"<html><script>", b"PK\x03\x04", b"", b"\x00\x00\x00\x18ftypheic"):
        assert sniff(other) is None


@pytest.fixture
def template(app, make_user):
    hq = make_user(Role.OPERATOR)
    campaign = campaigns.create_campaign(actor=hq, name="冬季焕新", starts_on=MONDAY, ends_on=MONDAY, store_scope="all",
                                         cadence={"short_video": 1}, slots="12:00")
    template = campaigns.add_template(campaign, actor=hq, kind="short_video", topic="新品开箱", caption="开箱")
    return {"hq": hq, "campaign": campaign, "template": template}


def test_hq_uploads_images_and_short_videos_within_the_caps(app, template, make_user, monkeypatch):
    hq, tpl = template["hq"], template["template"]
    image = services.add_material(tpl, actor=hq, file_name="C:\\素材\\门头 参考.png", data=png(400, 300))
    assert (image.kind, image.mime, image.file_name, image.width) == ("image", "image/png", "门头 参考.png", 400)
    clip = services.add_material(tpl, actor=hq, file_name="参考.mov", data=mp4(30, brand=b"qt  "))
    assert (clip.kind, clip.duration_s) == ("video", 30.0)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "material")) == 2
    with pytest.raises(NotFound):
        services.add_material(tpl, actor=make_user(Role.STORE_MANAGER), file_name="x.png", data=png())
    for data, words in ((b"%PDF-1.4 not an image", "Only images"), (mp4(600), "at most 180 seconds"),
                        (b"", "empty")):
        with pytest.raises(DomainError) as refused:
            services.add_material(tpl, actor=hq, file_name="x", data=data)
        assert words in refused.value.message and refused.value.field == "file"
    monkeypatch.setitem(app.config, "MATERIAL_MAX_IMAGE_BYTES", 100)
    with pytest.raises(DomainError, match="larger than"):
        services.add_material(tpl, actor=hq, file_name="big.png", data=png(400, 300) + b"\x00" * 200)
    monkeypatch.setitem(app.config, "MATERIALS_PER_TEMPLATE", 2)
    with pytest.raises(DomainError, match="at most 2 files"):
        services.add_material(tpl, actor=hq, file_name="third.gif", data=GIF)


def test_only_the_stores_whose_items_use_the_template_may_download(client, login, template, week_shop):
    tpl = template["template"]
    material = services.add_material(tpl, actor=template["hq"], file_name="门头.png", data=png())
    url = url_for("materials.download", material_id=material.id)
    login(week_shop["manager"])
    assert client.get(url).status_code == 404                      # no item of theirs uses the template yet
    week_shop["item"].template_id = tpl.id
    db.session.commit()
    response = client.get(url)
    assert response.status_code == 200 and response.data == png() and response.mimetype == "image/png"
    assert "attachment" in response.headers["Content-Disposition"] and "filename*=UTF-8''" in \
        response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = client.get(url_for("plans.item", item_id=week_shop["item"].id)).get_data(as_text=True)
    assert "Reference from HQ" in html and "门头.png" in html and 'data-copy="copy-caption"' in html


def test_the_upload_page_and_deleting(client, login, post, template):
    tpl, campaign = template["template"], template["campaign"]
    login(template["hq"])
    page = url_for("campaigns.template_edit", campaign_id=campaign.id, template_id=tpl.id)
    assert "Reference material" in client.get(page).get_data(as_text=True)
    from io import BytesIO
    response = post(url_for("materials.upload", template_id=tpl.id),
                    {"file": (BytesIO(mp4(12)), "开箱参考.mp4")}, content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith("#materials")
    material = db.session.scalar(select(Material))
    assert (material.file_name, material.kind) == ("开箱参考.mp4", "video")
    assert "开箱参考.mp4" in client.get(page).get_data(as_text=True)
    refused = post(url_for("materials.upload", template_id=tpl.id),
                   {"file": (BytesIO(b"#!/bin/sh\nrm -rf /"), "run.mp4")}, content_type="multipart/form-data")
    assert refused.status_code == 302 and db.session.scalar(select(func.count()).select_from(Material)) == 1
    assert post(url_for("materials.delete", material_id=material.id)).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Material)) == 0


def test_deleting_a_template_or_campaign_deletes_its_files(template):
    hq, tpl = template["hq"], template["template"]
    services.add_material(tpl, actor=hq, file_name="a.png", data=png())
    campaigns.delete_template(tpl, actor=hq)
    other = campaigns.add_template(template["campaign"], actor=hq, kind="short_video", topic="第二个")
    services.add_material(other, actor=hq, file_name="b.png", data=png())
    campaigns.delete_campaign(db.session.get(Campaign, template["campaign"].id), actor=hq)
    assert db.session.scalar(select(func.count()).select_from(Material)) == 0
    assert db.session.scalar(select(func.count()).select_from(ContentTemplate)) == 0


def test_published_records_a_link_on_the_accounts_platform(client, login, post, week_shop):
    item = week_shop["item"]
    login(week_shop["manager"])
    html = client.get(url_for("plans.item", item_id=item.id)).get_data(as_text=True)
    assert 'id="publish"' in html and "Mark published" in html
    wrong = post(url_for("plans.item_status", item_id=item.id),
                 {"status": "published", "post_url": "https://www.xiaohongshu.com/explore/1"})
    assert wrong.status_code == 422 and "Douyin" in wrong.get_data(as_text=True)
    right = post(url_for("plans.item_status", item_id=item.id),
                 {"status": "published", "post_url": "https://www.douyin.com/video/7300000000000000001"})
    assert right.status_code == 302
    db.session.refresh(item)
    assert item.status == ItemStatus.PUBLISHED and item.post_url.endswith("7300000000000000001")
