"""Sample data tests share: sheets as chains export them, a robot URL, a QR image."""
import csv
import io
import struct
import zlib

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
