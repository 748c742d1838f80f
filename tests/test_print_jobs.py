"""Print jobs without a browser: asking, claiming, leases, cancelling, expiry, the builder's checks, the pages.

tests/fake_chromium.py stands in for Chromium's --print-to-pdf (a blank page per sheet), so the
worker's batching, page checks and merge run here in milliseconds; test_print_pdf.py prints for real.
"""
import stat
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from flask import url_for
from pypdf import PdfReader
from sqlalchemy import select

from matrix.audit.models import AuditEntry
from matrix.auth.models import Role
from matrix.errors import DomainError, NotFound
from matrix.extensions import db
from matrix.models import utcnow
from matrix.printjobs import services
from matrix.printjobs.builder import build_job
from matrix.printjobs.chromium import ChromiumError, find_chromium
from matrix.printjobs.models import JobStatus, PrintJob
from matrix.printjobs.worker import run_round
from matrix.stores.models import Store

FAKE = Path(__file__).resolve().parent / "fake_chromium.py"
WEEK = "2026-W48"


@pytest.fixture
def fake_chromium(app, tmp_path, monkeypatch):
    """CHROMIUM_PATH pointing at the stand-in; jobs kept in a temporary folder; small batches."""
    wrapper = tmp_path / "chromium"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setitem(app.config, "CHROMIUM_PATH", str(wrapper))
    monkeypatch.setitem(app.config, "PRINT_JOB_DIR", str(tmp_path / "jobs"))
    monkeypatch.setitem(app.config, "PRINT_JOB_BATCH", 2)
    return monkeypatch


@pytest.fixture
def city(make_store, make_user):
    """Three open stores of Nanjing (made out of code order), a closed one, HQ and a manager."""
    stores = [make_store(code=f"NJ-00{n}", city="南京", district="玄武区") for n in (3, 1, 2)]
    make_store(code="NJ-009", city="南京", district="玄武区", status="closed")
    return {"stores": stores, "hq": make_user(Role.OPERATOR), "manager": make_user(Role.STORE_MANAGER,
                                                                                    stores=stores[:1])}


def ask(city, **extra) -> PrintJob:
    from matrix.plans.print_jobs import request_week_pdf
    from matrix.weeks import iso_week

    return request_week_pdf(actor=extra.pop("actor", city["hq"]), monday=iso_week(WEEK),
                            city=extra.pop("city_code", city["stores"][0].city_code), locale="en")


def test_a_request_lists_the_open_stores_in_code_order_and_is_audited(city):
    job = ask(city)
    assert [db.session.get(Store, i).code for i in job.store_ids] == ["NJ-001", "NJ-002", "NJ-003"]
    assert job.status == JobStatus.QUEUED and job.pages_total == 3 and job.params == {"week": WEEK,
                                                                                      "city": job.params["city"]}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "print_job"))
    assert entry.entity_id == job.id and entry.changes["stores"] == 3


def test_requests_are_hq_only_and_capped(app, city, monkeypatch):
    with pytest.raises(NotFound):
        ask(city, actor=city["manager"])
    with pytest.raises(DomainError):
        ask(city, city_code="999999")                         # no open store there
    monkeypatch.setitem(app.config, "PRINT_JOB_MAX_STORES", 2)
    with pytest.raises(DomainError) as too_many:
        ask(city)
    assert "At most 2 stores" in too_many.value.message
    monkeypatch.setitem(app.config, "PRINT_JOB_MAX_STORES", 100)
    for _n in range(services.MAX_ACTIVE_PER_USER):
        ask(city)
    with pytest.raises(DomainError):
        ask(city)                                            # three waiting already


def test_one_worker_claims_a_job_and_another_takes_it_over_when_its_lease_runs_out(city):
    job = ask(city)
    first = services.claim_job(worker="a")
    assert first.id == job.id and first.worker == "a" and first.status == JobStatus.RUNNING
    assert services.claim_job(worker="b") is None             # leased
    later = utcnow() + timedelta(hours=1)
    taken = services.claim_job(worker="b", now=later)
    assert taken.id == job.id and taken.worker == "b" and taken.attempts == 2
    assert not services.report_progress(first, worker="a", pages_done=2)  # "a" stops at its next batch
    assert services.report_progress(taken, worker="b", pages_done=2)


def test_a_job_whose_workers_keep_dying_fails(city):
    job = ask(city)
    now = utcnow()
    for n in range(services.MAX_ATTEMPTS):
        assert services.claim_job(worker=f"w{n}", now=now + timedelta(hours=n)).id == job.id
    assert services.claim_job(worker="last", now=now + timedelta(hours=9)) is None
    db.session.refresh(job)
    assert job.status == JobStatus.FAILED and "stopped three times" in job.error


def test_the_worker_builds_a_cover_and_a_page_per_store(fake_chromium, city):
    job = ask(city)
    assert run_round("w", echo=lambda _line: None)
    db.session.refresh(job)
    assert job.status == JobStatus.DONE and job.error is None
    path = services.job_file(job)
    assert path.parent == services.job_dir() and job.file_size == path.stat().st_size
    assert len(PdfReader(path).pages) == job.page_count == 4 and job.pages_done == 3
    assert job.expires_at > utcnow() + timedelta(hours=23)
    assert not list(path.parent.glob("job*"))                  # the batches' folder is gone


def test_a_batch_with_a_page_too_many_fails_the_job_with_the_numbers(fake_chromium, city):
    fake_chromium.setenv("FAKE_CHROMIUM_EXTRA", "1")
    job = ask(city)
    run_round("w", echo=lambda _line: None)
    db.session.refresh(job)
    assert job.status == JobStatus.FAILED
    assert "printed 2 pages for 1 cover page" in job.error or "printed 3 pages for 2 stores" in job.error
    assert services.job_file(job) is None and not list(services.job_dir().glob("*.pdf"))


def test_chromium_failing_or_missing_fails_the_job_with_a_message(app, fake_chromium, city):
    fake_chromium.setenv("FAKE_CHROMIUM_FAIL", "1")
    job = ask(city)
    run_round("w", echo=lambda _line: None)
    db.session.refresh(job)
    assert job.status == JobStatus.FAILED and "could not print" in job.error and "print failed" in job.error
    fake_chromium.setitem(app.config, "CHROMIUM_PATH", "/nonexistent/chromium")
    fake_chromium.setattr("matrix.printjobs.chromium.CANDIDATES", ())
    fake_chromium.setattr("matrix.printjobs.chromium.shutil.which", lambda _name: None)
    with pytest.raises(ChromiumError) as missing:
        find_chromium("/nonexistent/chromium")
    assert "apt-get install chromium" in str(missing.value)
    second = ask(city)
    run_round("w", echo=lambda _line: None)
    db.session.refresh(second)
    assert second.status == JobStatus.FAILED and "CHROMIUM_PATH" in second.error


def test_a_cancelled_job_stops_and_offers_nothing(fake_chromium, city):
    job = ask(city)
    claimed = services.claim_job(worker="w")
    assert services.cancel_job(job, actor=city["hq"])
    assert not build_job(claimed, worker="w")
    db.session.refresh(job)
    assert job.status == JobStatus.CANCELLED and job.file_name is None
    assert not services.cancel_job(job, actor=city["hq"])       # nothing left to cancel


def test_expired_files_are_deleted(fake_chromium, city):
    job = ask(city)
    run_round("w", echo=lambda _line: None)
    db.session.refresh(job)
    path = services.job_file(job)
    assert services.expire_jobs(now=utcnow() + timedelta(hours=25)) == 1
    db.session.refresh(job)
    assert job.status == JobStatus.EXPIRED and not path.exists() and services.job_file(job) is None


def test_pages_for_hq_only(app, client, login, post, fake_chromium, city):
    login(city["manager"])
    for url in (url_for("prints.index"), url_for("plans.print_pdf")):
        assert (client.get(url) if url.endswith("/prints/") else post(url, {"week": WEEK})).status_code == 403
    with app.app_context():
        other = app.test_client()
        login(city["hq"], other)
        response = post(url_for("plans.print_pdf"), {"city": city["stores"][0].city_code, "week": WEEK}, c=other)
        job_url = response.headers["Location"]
        page = other.get(job_url).get_data(as_text=True)
        assert 'http-equiv="refresh"' in page and "0 of 3 pages" in page
        job = db.session.scalars(select(PrintJob)).one()
        assert other.get(url_for("prints.download", job_id=job.id)).status_code == 404   # not made yet
        run_round("w", echo=lambda _line: None)
        page = other.get(job_url).get_data(as_text=True)
        assert 'http-equiv="refresh"' not in page and "Download the PDF" in page and "4 pages" in page
        pdf = other.get(url_for("prints.download", job_id=job.id))
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
        assert "no-store" in pdf.headers["Cache-Control"]
        assert job.title in other.get(url_for("prints.index")).get_data(as_text=True)
        bad = post(url_for("plans.print_pdf"), {"city": "", "week": "2026-W99"}, c=other)
        assert bad.status_code == 302 and "/prints/" not in bad.headers["Location"]


def test_the_cli_builds_once(app, fake_chromium, city):
    job = ask(city)
    result = app.test_cli_runner().invoke(args=["print-jobs", "--once"])
    assert result.exit_code == 0, result.output
    assert f"print job {job.id} done" in result.output
