"""Sample data tests share: sheets as chains export them, a robot URL, a QR image."""
import csv
import io
import struct
import zlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from matrix.extensions import db
from matrix.imports.preview import preview_import
from matrix.imports.readers import read_table
from matrix.stores.models import Store

STORE_HEADER = ["门店编码", "门店名称", "城市", "区县", "详细地址", "经度", "纬度", "坐标系", "状态", "服务半径(km)", "电话"]
WEST_LAKE = ["HZ-001", "杭州西湖店", "杭州", "西湖区", "文三路 1 号", "120.1551", "30.2741", "GCJ-02", "营业", "3", "0571-88880001"]
BINJIANG = ["HZ-002", "杭州滨江店", "杭州市", "滨江区", "江南大道 2 号", "120.2119", "30.2084", "", "筹备", "5", ""]


def csv_bytes(rows, encoding="gbk", delimiter=",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode(encoding)


def preview_csv(kind, rows, mapping=None, encoding="gbk"):
    return preview_import(kind, read_table(csv_bytes(rows, encoding), f"{kind}.csv"), mapping, filename=f"{kind}.csv")


def store_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Store))


ROBOT = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0a1b2c3d-secret-key-9f8e7d6c"


def png(width: int = 120, height: int = 120) -> bytes:
    """A real, tiny, one-colour PNG of the given size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# The fullest week the generator can produce: the most slots a campaign takes (12), every one of them filled
# every day (84 items per account), all four platforms, long texts. Shared by the print tests and
# bench/print_chain.py, which print it and count pages.
FULL_SLOTS = "08:00,09:00,10:00,11:00,12:00,13:00,14:00,15:30,17:00,18:30,20:00,21:30"
FULL_CADENCE = {"short_video": 42, "image_post": 28, "live": 7, "trailer": 7}
_PHRASE = "冬季焕新季开启！本周到店即可体验全新布艺沙发，门店专属优惠限时三天，关注账号私信领取到店礼，先到先得哦～"


def long_text(chars: int, phrase: str = _PHRASE) -> str:
    return (phrase * (chars // len(phrase) + 1))[:chars]


def fullest_campaign(*, starts_on, ends_on, caption_chars: int = 2000, tag_chars: int = 480, actor=None):
    """A campaign for every store and platform with 12 slots all used and two templates per kind."""
    from matrix.campaigns import services

    campaign = services.create_campaign(actor=actor, name="满载周", starts_on=starts_on, ends_on=ends_on,
                                        store_scope="all", cadence=FULL_CADENCE, slots=FULL_SLOTS)
    shots = "\n".join(f"镜头{n}：门头远景推近，带出门店招牌与{{{{ store_name }}}}的新品陈列细节" for n in range(1, 13))
    for kind in FULL_CADENCE:
        for variant in (1, 2):
            services.add_template(campaign, actor=actor, kind=kind,
                                  topic="{{ store_name }}" + long_text(150, f"第{variant}版选题：新品探店与到店福利，"),
                                  caption=long_text(caption_chars), script=shots,
                                  hashtags=long_text(tag_chars, "#同城探店 #家居好物 "),
                                  location_tag="{{ store_name }}（" + long_text(150, "文三路一号，地铁站旁") + "）")
    return campaign


def fullest_week(stores, monday, *, caption_chars: int = 2000, tag_chars: int = 480, actor=None) -> int:
    """Give each store an account on every platform and generate the fullest week; returns items made."""
    from sqlalchemy import select as select_

    from matrix.accounts.models import Account, AccountScope, AccountStatus, Platform
    from matrix.content.generation import generate_week

    platforms = db.session.scalars(select_(Platform).order_by(Platform.sort_order)).all()
    have = {(a.store_id, a.platform_id) for a in db.session.scalars(
        select_(Account).where(Account.store_id.in_([s.id for s in stores])))}
    db.session.add_all([Account(platform_id=p.id, store_id=s.id, scope=AccountScope.STORE,
                                handle=f"{s.code.lower()}_{p.code}", display_name=f"{s.name}{p.name_zh}",
                                status=AccountStatus.ACTIVE, followers=1000)
                        for s in stores for p in platforms if (s.id, p.id) not in have])
    db.session.commit()
    campaign = fullest_campaign(starts_on=monday, ends_on=monday + timedelta(days=6), caption_chars=caption_chars,
                                tag_chars=tag_chars, actor=actor)
    # Generated as HQ would, on the week's Monday morning: every slot of it still ahead.
    return generate_week(campaign, monday, actor=actor, zone="Asia/Shanghai",
                         now=datetime.combine(monday, time.min, tzinfo=ZoneInfo("Asia/Shanghai"))).added
