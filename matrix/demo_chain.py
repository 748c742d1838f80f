"""Drawing a chain: cities and districts, stores near real district centres, their accounts and groups.

Deterministic for one random.Random, and written with bulk inserts, so 10,000 stores take seconds.
"""
import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import insert, select

from matrix.accounts.models import Account, AccountScope, AccountStatus, Platform
from matrix.brands.models import Brand
from matrix.communities.models import DEFAULT_CAPACITY, Community, CommunityKind
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.regions.services import (
    cities,
    districts_of,
    find_city,
    find_district,
    region_centre,
    region_name,
    short_name,
)
from matrix.stores.models import GeocodeStatus, Store, StoreStatus

BRAND = "栖木家居"
HANDLE = "qimu"
# City, store code prefix, phone area code, share of the stores, core districts, real streets.
DEMO_CITIES = [
    ("杭州", "HZ", "0571", 40, "西湖 上城 拱墅 滨江 江干 萧山 余杭", "文三路 天目山路 莫干山路 延安路 解放路 江南大道 古墩路"),
    ("上海", "SH", "021", 35, "浦东新区 徐汇 静安 长宁 闵行 杨浦 普陀 宝山", "南京西路 淮海中路 漕溪北路 张杨路 虹桥路 四平路 长寿路 吴中路"),
    ("北京", "BJ", "010", 30, "朝阳 海淀 东城 西城 丰台 通州 昌平", "建国路 中关村大街 朝阳北路 西直门外大街 学院路 丰台北路 回龙观西大街"),
    ("深圳", "SZ", "0755", 25, "南山 福田 罗湖 宝安 龙岗", "深南大道 科技园路 福华路 宝安大道 龙岗大道 南海大道 华强北路"),
    ("广州", "GZ", "020", 25, "天河 越秀 海珠 番禺 白云 荔湾", "天河路 体育西路 中山五路 江南大道中 广州大道南 白云大道北 环市东路"),
    ("成都", "CD", "028", 25, "锦江 青羊 武侯 金牛 成华 双流", "春熙路 人民南路 蜀都大道 建设路 天府大道 金府路 玉林北路"),
    ("武汉", "WH", "027", 22, "江汉 武昌 洪山 江岸 汉阳 硚口", "解放大道 中南路 珞喻路 武珞路 汉阳大道 建设大道 中山大道"),
    ("南京", "NJ", "025", 22, "鼓楼 玄武 秦淮 建邺 江宁 栖霞", "中山路 中山北路 珠江路 汉中路 江东中路 双龙大道 龙蟠路"),
    ("苏州", "SU", "0512", 20, "姑苏 吴中 相城 虎丘 吴江", "观前街 人民路 干将路 东环路 苏州大道 长江路 狮山路"),
    ("西安", "XA", "029", 18, "雁塔 碑林 莲湖 未央 新城 长安", "长安北路 小寨东路 高新路 凤城八路 解放路 劳动路 科技路"),
    ("重庆", "CQ", "023", 20, "渝中 江北 渝北 南岸 沙坪坝 九龙坡", "民族路 建新北路 金开大道 南坪西路 小龙坎新街 杨家坪正街 红锦大道"),
    ("长沙", "CS", "0731", 18, "芙蓉 天心 岳麓 开福 雨花", "五一大道 芙蓉中路 黄兴南路 韶山中路 麓山南路 劳动西路 万家丽路"),
]
GENERIC_STREETS = "人民路 中山路 解放路 建设路 和平路 新华路 胜利路 文化路 青年路 长江路".split()
# Share of stores with an account per platform: Douyin first, Xiaohongshu last, as chains grow.
PLATFORM_SHARE = {"douyin": 0.9, "kuaishou": 0.6, "channels": 0.5, "xiaohongshu": 0.35}
STORE_STATUSES = ([StoreStatus.OPEN] * 84 + [StoreStatus.PLANNED] * 6
                  + [StoreStatus.CLOSED_TEMPORARILY] * 5 + [StoreStatus.CLOSED] * 5)
ACCOUNT_STATUSES = ([AccountStatus.ACTIVE] * 80 + [AccountStatus.INCUBATING] * 12 + [AccountStatus.RESTRICTED] * 4
                    + [AccountStatus.BANNED] * 2 + [AccountStatus.RETIRED] * 2)
STAFF = "小王 小李 小张 小陈 小刘 小杨 小赵 小周".split()


@dataclass
class CityPlan:
    code: str
    prefix: str | None                   # store code prefix (demo), None for S00001-style codes
    area: str | None                     # phone area code; None gives mobile numbers
    districts: list[tuple[str, str]]     # (code, name), each with a centre
    streets: list[str]
    stores: int = 0


@dataclass
class ChainSummary:
    stores: int = 0
    accounts: int = 0
    communities: int = 0
    users: list[tuple[str, str, str, list[str]]] = field(default_factory=list)  # name, password, role, stores
    lead_source: tuple[str, str] | None = None  # (slug, secret) of the demo's generic lead webhook
    sessions: int = 0       # live sessions booked
    items: int = 0          # the campaign's generated items
    leads: int = 0


def _split(total: int, weights: list[float]) -> list[int]:
    """Whole numbers proportional to `weights` that add up to `total`."""
    raw = [total * w / sum(weights) for w in weights]
    counts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _with_centres(codes_names: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(code, name) for code, name in codes_names if region_centre(code)]


def demo_plans(total: int) -> list[CityPlan]:
    """The twelve demo cities with their core districts."""
    plans = []
    for city, prefix, area, _weight, districts, streets in DEMO_CITIES:
        code = find_city(city)
        found = []
        for name in districts.split():
            try:
                found.append((find_district(code, name), name))
            except DomainError:  # a district merged away in a newer region table: place stores elsewhere
                continue
        found = _with_centres([(c, region_name(c)) for c, _n in found]) or _with_centres(districts_of(code))
        plans.append(CityPlan(code, prefix, area, found, streets.split()))
    for plan, n in zip(plans, _split(total, [row[3] for row in DEMO_CITIES])):
        plan.stores = n
    return plans


def seed_plans(rng: random.Random, total: int) -> list[CityPlan]:
    """About one city per hundred stores, drawn from every city with mapped districts."""
    plans = []
    for code, _name in rng.sample(cities(), len(cities())):
        mapped = _with_centres(districts_of(code))
        districts = [d for d in mapped if d[1].endswith("区")] or mapped  # urban districts before counties
        if districts:
            plans.append(CityPlan(code, None, None, districts[:8], GENERIC_STREETS))
        if len(plans) >= max(12, total // 100):
            break
    for plan, n in zip(plans, _split(total, [rng.uniform(1, 6) for _ in plans])):
        plan.stores = n
    return plans


def cn_number(n: int) -> str:
    """2 -> 二, 12 -> 十二, 35 -> 三十五 (store names number branches in Chinese)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    return str(n)


def _near(rng: random.Random, centre: tuple[float, float], km: float = 2.0) -> tuple[float, float]:
    """A point up to `km` from `centre` (WGS-84), spread evenly over the disc."""
    lon, lat = centre
    d, angle = km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    return (round(lon + d * math.sin(angle) / (111.32 * math.cos(math.radians(lat))), 6),
            round(lat + d * math.cos(angle) / 110.57, 6))


def _store_rows(rng: random.Random, plans: list[CityPlan], brand_id: int) -> list[dict]:
    rows, serial = [], 0
    for plan in plans:
        city_short = short_name(region_name(plan.code))
        weights = [1 / math.sqrt(i + 1) for i in range(len(plan.districts))]
        per_district = _split(plan.stores, weights)
        number = 0
        for (district_code, district_name), n in zip(plan.districts, per_district):
            for branch in range(1, n + 1):
                number, serial = number + 1, serial + 1
                code = f"{plan.prefix}-{number:03d}" if plan.prefix else f"S{serial:05d}"
                suffix = "" if branch == 1 else cn_number(branch)
                name = f"{BRAND}·{city_short}{short_name(district_name)}{suffix}店"
                rows.append(_store_row(rng, plan, brand_id, code, name, district_code, district_name))
    return rows


def _store_row(rng: random.Random, plan: CityPlan, brand_id: int, code: str, name: str,
               district_code: str, district_name: str) -> dict:
    status = rng.choice(STORE_STATUSES)
    lon, lat = _near(rng, region_centre(district_code))
    geocode, error = GeocodeStatus.MANUAL, None
    luck = rng.random()
    if luck < 0.03:
        lon = lat = None
        geocode, error = (GeocodeStatus.MISSING, None) if luck < 0.02 else (GeocodeStatus.FAILED, "no match")
    phone = (f"{plan.area}-8{rng.randint(0, 9999999):07d}" if plan.area
             else f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}")
    opened = None if status == StoreStatus.PLANNED else date(2016, 1, 1) + timedelta(days=rng.randint(0, 3400))
    return {"code": code, "name": name, "brand_id": brand_id, "city_code": plan.code, "district_code": district_code,
            "address": f"{district_name}{rng.choice(plan.streets)}{rng.randint(1, 999)}号", "lon": lon, "lat": lat,
            "geocode_status": geocode, "geocode_error": error,
            "service_radius_km": rng.choice([3.0, 3.5, 4.0, 4.5, 5.0]),
            "status": status, "opened_on": opened, "phone": phone, "version": 1}


def _account_row(rng: random.Random, platform: Platform, store: dict, store_id: int, n: int) -> dict:
    status = rng.choice(ACCOUNT_STATUSES)
    if store["status"] == StoreStatus.PLANNED:
        status = AccountStatus.INCUBATING
    elif store["status"] == StoreStatus.CLOSED:
        status = AccountStatus.RETIRED
    young = status == AccountStatus.INCUBATING
    return {"platform_id": platform.id, "scope": AccountScope.STORE, "store_id": store_id,
            "handle": f"{HANDLE}.{store['code'].lower()}" + (f".{n}" if n > 1 else ""),
            "display_name": store["name"], "status": status, "run_by": rng.choice(STAFF),
            "followers": int(rng.lognormvariate(4.5 if young else 7.3, 1.0 if young else 1.2)),
            "poi_id": f"{rng.randint(10**15, 10**16 - 1)}" if platform.code == "douyin" else None}


def _invite_link(code: str, n: int) -> str:
    """A WeCom group invite link (the printed plan's QR code points at it); from a hash, so the draws stay put."""
    return f"https://work.weixin.qq.com/gm/{hashlib.sha1(f'{code}-{n}'.encode()).hexdigest()[:24]}"


def _community_rows(rng: random.Random, store: dict, store_id: int) -> list[dict]:
    if store["status"] in (StoreStatus.PLANNED, StoreStatus.CLOSED) or rng.random() >= 0.85:
        return []
    count = rng.choice([1, 1, 2, 2, 3])
    rows = []
    for i in range(count):
        # Earlier groups in the rotation filled up; the last one fills now and then.
        last = i == count - 1
        members = DEFAULT_CAPACITY if not last or rng.random() < 0.1 else rng.randint(15, DEFAULT_CAPACITY - 1)
        rows.append({"store_id": store_id, "name": f"{store['name']}{i + 1}群", "rotation_order": i,
                     "kind": CommunityKind.WECOM if rng.random() < 0.7 else CommunityKind.WECHAT,
                     "capacity": DEFAULT_CAPACITY, "members": members, "active": True,
                     "invite_link": _invite_link(store["code"], i)})
    return rows


def _brand(rng: random.Random, platforms: list[Platform]) -> int:
    brand_id = db.session.scalar(select(Brand.id).where(Brand.name == BRAND))
    if brand_id is None:
        brand = Brand(name=BRAND)
        db.session.add(brand)
        db.session.flush()
        brand_id = brand.id
    taken = set(db.session.scalars(select(Account.platform_id).where(Account.scope == AccountScope.BRAND,
                                                                     Account.brand_id == brand_id)))
    rows = [{"platform_id": p.id, "scope": AccountScope.BRAND, "brand_id": brand_id, "handle": "qimujiaju",
             "display_name": f"{BRAND}官方", "status": AccountStatus.ACTIVE,
             "followers": rng.randint(80_000, 900_000)} for p in platforms if p.id not in taken]
    if rows:
        db.session.execute(insert(Account), rows)
    return brand_id


def build_chain(rng: random.Random, plans: list[CityPlan], platforms: list[Platform],
                 accounts_per_store: int | None) -> tuple[ChainSummary, list[dict], dict[str, int]]:
    """Stores, their accounts and communities; accounts_per_store=None draws by PLATFORM_SHARE."""
    stores = _store_rows(rng, plans, _brand(rng, platforms))
    db.session.execute(insert(Store), stores)
    ids = dict(db.session.execute(select(Store.code, Store.id)).all())
    accounts, groups = [], []
    for store in stores:
        sid = ids[store["code"]]
        if accounts_per_store is None:
            chosen = [p for p in platforms if rng.random() < PLATFORM_SHARE.get(p.code, 0.2)]
        else:  # exactly k accounts, the likelier platforms first (weighted sampling without replacement)
            ranked = sorted(platforms, key=lambda p: rng.random() ** (1 / PLATFORM_SHARE.get(p.code, 0.2)),
                            reverse=True)
            chosen = [ranked[i % len(ranked)] for i in range(accounts_per_store)]
        seen: dict[int, int] = {}
        for p in chosen:
            seen[p.id] = seen.get(p.id, 0) + 1
            accounts.append(_account_row(rng, p, store, sid, seen[p.id]))
        groups.extend(_community_rows(rng, store, sid))
    if accounts:
        db.session.execute(insert(Account), accounts)
    if groups:
        db.session.execute(insert(Community), groups)
    return ChainSummary(len(stores), len(accounts), len(groups)), stores, ids
