"""Print the posters with headless Chromium: one page per store, of the chosen size, and every QR code reads right."""
import unicodedata

import pypdfium2
import pytest
from chromium import USER_AGENT, browser, print_to_pdf, serve
from conftest import csrf_token
from pypdf import PdfReader
from qr_reading import decode_pixels

from matrix.extensions import db
from matrix.printjobs import services as print_jobs
from matrix.printjobs.models import JobStatus, PrintJob
from matrix.printjobs.worker import run_round

pytestmark = pytest.mark.slow

A4 = (595.28, 841.89)   # points, portrait
A5 = (419.53, 595.28)


def signed_in_cookie(app, login, user) -> str:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    login(user, client)
    return f"session={client.get_cookie('session', domain='localhost').value}"


def flat(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").replace("\n", "").replace(" ", "")


def page_codes(path, index: int) -> set[str]:
    """The QR codes a phone would read off one printed page (rendered at about 220 dpi)."""
    page = pypdfium2.PdfDocument(str(path))[index]
    return set(decode_pixels(page.render(scale=3, grayscale=True).to_numpy()))


def test_a_city_prints_one_a4_poster_per_store_and_its_codes_read(app, login, tmp_path, storefront, make_store):
    browser()
    store_c = make_store(code="HZ-003", name="栖木家居·杭州滨江店", brand_id=storefront["brand"].id)
    cookie = signed_in_cookie(app, login, storefront["hq"])
    with serve(app, cookie) as base:
        path = print_to_pdf(f"{base}/storefront/posters?city={store_c.city_code}", tmp_path)
    reader = PdfReader(path)
    assert len(reader.pages) == 3
    for n, (page, code) in enumerate(zip(reader.pages, ("HZ-001", "HZ-002", "HZ-003"))):
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, abs=2)
        codes = page_codes(path, n)
        assert f"{base}/s/{code}?c=poster" in codes
        # A store with a group has its counted join code too; HZ-003 has no group yet.
        assert (f"{base}/s/{code}/join?c=poster" in codes) == (code != "HZ-003")
        assert all(code in c or c.startswith("https://www.douyin.com/") for c in codes), codes
    first = flat(reader.pages[0].extract_text())
    assert flat("扫码进栖木家居·杭州西湖店福利群") in first and flat("文三路100号") in first
    assert "https://www.douyin.com/user/qimu_xihu" in page_codes(path, 0)


def test_a5_posters_fit_one_page_each(app, login, tmp_path, storefront):
    browser()
    cookie = signed_in_cookie(app, login, storefront["manager"])
    with serve(app, cookie) as base:
        path = print_to_pdf(f"{base}/storefront/posters?store_id={storefront['store_a'].id}&size=A5", tmp_path)
    reader = PdfReader(path)
    assert len(reader.pages) == 1
    assert (float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)) == pytest.approx(A5, abs=2)
    assert f"{base}/s/HZ-001?c=poster" in page_codes(path, 0)


def test_the_print_worker_builds_a_citys_posters_as_one_pdf_with_a_cover(app, login, client, tmp_path, monkeypatch,
                                                                         storefront, make_store):
    """HQ asks on the store-page screen; the worker prints a cover and one A5 poster per store; codes read right."""
    browser()
    store_c = make_store(code="HZ-003", name="栖木家居·杭州滨江店", brand_id=storefront["brand"].id)
    monkeypatch.setitem(app.config, "PRINT_JOB_DIR", str(tmp_path / "jobs"))
    monkeypatch.setitem(app.config, "BASE_URL", "https://m.example.cn")
    login(storefront["hq"])
    token = csrf_token(client)
    response = client.post("/storefront/posters/pdf", data={"city": store_c.city_code, "size": "A5",
                                                            "csrf_token": token})
    job_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    assert run_round("test-worker", echo=lambda _line: None)
    job = db.session.get(PrintJob, job_id)
    db.session.refresh(job)
    assert job.status == JobStatus.DONE, job.error
    path = print_jobs.job_file(job)
    reader = PdfReader(path)
    assert len(reader.pages) == job.page_count == 4                   # the cover, then HZ-001..HZ-003
    assert all((float(p.mediabox.width), float(p.mediabox.height)) == pytest.approx(A5, abs=2) for p in reader.pages)
    cover = flat(reader.pages[0].extract_text())
    assert flat("HZ-001–HZ-003") in cover and flat("杭州") in cover
    for n, code in enumerate(("HZ-001", "HZ-002", "HZ-003"), start=1):
        assert f"https://m.example.cn/s/{code}?c=poster" in page_codes(path, n)
    assert flat("扫码进栖木家居·杭州西湖店福利群") in flat(reader.pages[1].extract_text())


def test_a_bad_poster_size_is_refused_with_a_message_and_queues_nothing(login, client, storefront):
    # A store manager's refusal is the scoping walk's (tests/test_scoping.py posts to every route).
    login(storefront["hq"])
    response = client.post("/storefront/posters/pdf", data={"size": "A3", "csrf_token": csrf_token(client)},
                           follow_redirects=True)
    assert "Choose a poster size" in response.get_data(as_text=True) or "海报尺寸" in response.get_data(as_text=True)
    assert db.session.query(PrintJob).count() == 0
