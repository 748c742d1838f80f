"""Many group QR images at once: matched by file name, judged one by one, and a zip can neither bomb nor wander."""
import io
import zipfile

import pytest
from samples import png
from sqlalchemy import select

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.communities.models import Community
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.onboarding.qr_batch import CREATED, REFUSED, SAVED, apply_qr_files, read_files


@pytest.fixture
def hq(make_user):
    return make_user(Role.OPERATOR)


@pytest.fixture
def groups(app, make_store, make_community):
    west = make_store(code="HZ-001", name="杭州西湖店")
    binjiang = make_store(code="HZ-002", name="杭州滨江店", district="滨江区")
    make_store(code="HZ-003", name="杭州拱墅店", district="拱墅区")  # no group yet
    return {"west1": make_community(west, name="西湖1群", rotation_order=1),
            "west2": make_community(west, name="西湖2群", rotation_order=2),
            "binjiang": make_community(binjiang, name="滨江1群")}


def zipped(files: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def results(report) -> dict:
    return {f.name: (f.status, f.message) for f in report.files}


def test_files_find_their_groups_by_name_code_and_place(hq, groups):
    data = zipped({"西湖2群.png": png(), "HZ-002.jpg": png(130, 130), "qr/HZ-001-1.png": png(),
                   "HZ-003.png": png(), "__MACOSX/._HZ-002.jpg": b"junk", "nobody.png": png()})
    report = apply_qr_files(read_files([("codes.zip", data)]), actor=hq)
    found = results(report)
    assert "__MACOSX/._HZ-002.jpg" not in found  # noise a Mac adds is not a file anyone chose
    assert found["西湖2群.png"][0] == SAVED and found["qr/HZ-001-1.png"][0] == SAVED
    assert found["HZ-002.jpg"][0] == SAVED and found["HZ-003.png"][0] == CREATED
    assert found["nobody.png"][0] == REFUSED
    db.session.expire_all()
    assert all(db.session.get(Community, g.id).qr_mime == "image/png" for g in groups.values())
    created = db.session.scalar(select(Community).where(Community.name == "杭州拱墅店·1群"))  # HQ's default rule
    assert created is not None and created.qr_image is not None
    assert db.session.query(AuditEntry).filter(AuditEntry.entity == "community").count() == 4


def test_a_store_code_fills_the_first_group_without_a_code(hq, groups):
    report = apply_qr_files(read_files([("HZ-001.png", png()), ("hz-001.png", png())]), actor=hq)
    assert [f.group for f in report.files] == ["西湖1群", "西湖2群"]  # case does not matter, nor does order


def test_each_file_stands_alone(hq, groups):
    files = read_files([("西湖1群.png", png()), ("HZ-001-1.png", png()), ("HZ-002.png", b"not an image"),
                        ("HZ-001-7.png", png()), ("滨江1群.png", png(20, 20))])
    found = results(apply_qr_files(files, actor=hq))
    assert found["西湖1群.png"][0] == SAVED
    assert found["HZ-001-1.png"] == (REFUSED, "西湖1群.png in this upload already set this group's QR code.")
    assert "not a PNG" in found["HZ-002.png"][1]
    assert "not a group 7" in found["HZ-001-7.png"][1]
    assert "80 and 4000 pixels" in found["滨江1群.png"][1]
    db.session.expire_all()
    assert db.session.get(Community, groups["west1"].id).qr_mime == "image/png"  # the good file was kept
    assert db.session.get(Community, groups["binjiang"].id).qr_mime is None


def test_a_zip_bomb_is_not_unpacked(hq, groups):
    bomb = zipped({"HZ-001.png": b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024)})  # 1 MB of zeros: ~1 KB zipped
    found = results(apply_qr_files(read_files([("bomb.zip", bomb)]), actor=hq))
    assert found["HZ-001.png"][0] == REFUSED and "far more" in found["HZ-001.png"][1]


def test_a_member_larger_than_the_cap_is_refused_before_reading(hq, groups):
    big = zipped({"HZ-001.png": png() + b"\x01" * (2 * 1024 * 1024)}, compression=zipfile.ZIP_STORED)
    assert "larger than 2 MB" in results(apply_qr_files(read_files([("big.zip", big)]), actor=hq))["HZ-001.png"][1]


def test_paths_in_a_zip_are_names_only(hq, groups):
    data = zipped({"../../etc/HZ-002.png": png(), "C:\\evil\\西湖1群.png": png(), "notes.txt": b"hello"})
    found = results(apply_qr_files(read_files([("x.zip", data)]), actor=hq))
    assert found["../../etc/HZ-002.png"][0] == SAVED  # matched by its base name; nothing is written to disk
    assert found["C:/evil/西湖1群.png"][0] == SAVED
    assert found["notes.txt"][0] == REFUSED


def test_too_many_files_or_a_broken_zip_refuse_the_upload(hq, groups):
    with pytest.raises(DomainError, match="500"):
        read_files([(f"{n}.png", png()) for n in range(501)])
    with pytest.raises(DomainError, match="not a zip"):
        read_files([("x.zip", b"PK\x03\x04 broken")])


def test_only_the_users_groups_can_be_named(groups, make_user, make_store):
    manager = make_user(Role.STORE_MANAGER, stores=[groups["binjiang"].store])
    found = results(apply_qr_files(read_files([("西湖1群.png", png()), ("HZ-002.png", png())]), actor=manager))
    assert found["西湖1群.png"][0] == REFUSED and found["HZ-002.png"][0] == SAVED
