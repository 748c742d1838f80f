"""Benchmark: the first hour's pages and sheets on a 10,000-store chain.

Run: .venv/bin/python bench/first_hour.py [--stores 10000] [--runs 10]
Seeds a chain (`flask seed`'s data: two store accounts a store, so two of the four platforms are gaps),
then times what HQ waits for: the setup page (gaps and progress of every store), the accounts gap sheet
(XLSX), its import preview and write once every handle is filled, and 500 QR images matched from one zip.
Uses a fresh SQLite file in a temporary folder, or DATABASE_URL (PostgreSQL) in a fresh schema dropped
afterwards. Ends with one line per figure: `name value unit`.
"""
import argparse
import io
import statistics
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import fresh_database, make_app  # noqa: E402  (bench/common.py, beside this script)


def seed(app, stores: int):
    from werkzeug.security import generate_password_hash

    from matrix.auth.models import Role, User
    from matrix.demo import build_seed
    from matrix.extensions import db
    from matrix.regions.services import load_regions

    with app.app_context():
        db.create_all()
        load_regions()
        build_seed(stores=stores, accounts_per_store=2, rng_seed=1)
        user = User(username="bench-hq", display_name="bench", role=Role.OPERATOR, locale="zh")
        user.password_hash = generate_password_hash("bench-password-2026", method="pbkdf2:sha256:1000")
        db.session.add(user)
        db.session.commit()


def median_ms(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def measure(app, runs: int) -> list[tuple[str, float, str]]:
    from samples import png
    from sqlalchemy import select

    from matrix.auth.models import User
    from matrix.extensions import db
    from matrix.imports.apply import apply_import
    from matrix.imports.exports import to_xlsx
    from matrix.imports.preview import preview_import
    from matrix.imports.readers import read_table
    from matrix.onboarding.gap_sheet import account_gap_table
    from matrix.onboarding.gaps import chain_gaps, progress_by_city
    from matrix.onboarding.qr_batch import apply_qr_files, read_files

    figures = []
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "bench-hq"))
        figures.append(("setup_gaps_ms", median_ms(lambda: progress_by_city(chain_gaps(user)), runs), "ms"))
        app.config["WTF_CSRF_ENABLED"] = False  # the bench signs in without rendering the form first
        client = app.test_client()
        signed_in = client.post("/login", data={"username": "bench-hq", "password": "bench-password-2026"})
        assert signed_in.status_code == 302, signed_in.status_code

        def setup_page():
            assert client.get("/onboarding/").status_code == 200
        figures.append(("setup_page_ms", median_ms(setup_page, runs), "ms"))
        started = time.perf_counter()
        header, rows = account_gap_table(user)
        data = to_xlsx(header, rows)
        figures += [("gap_sheet_rows", len(rows), "rows"), ("gap_sheet_xlsx_s", round(time.perf_counter() - started, 2), "s")]
        handle = header.index("账号")
        for n, row in enumerate(rows):
            row[handle] = f"bench_{n}"
        filled = to_xlsx(header, rows)
        started = time.perf_counter()
        preview = preview_import("accounts", read_table(filled, "gaps.xlsx"))
        figures.append(("gap_sheet_preview_s", round(time.perf_counter() - started, 2), "s"))
        started = time.perf_counter()
        apply_import(preview, user)
        figures.append(("gap_sheet_import_s", round(time.perf_counter() - started, 2), "s"))
        codes = [s.code for s in chain_gaps(user) if s.group_gap][:500]
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as z:
            for code in codes:
                z.writestr(f"{code}.png", png())
        started = time.perf_counter()
        report = apply_qr_files(read_files([("qr.zip", archive.getvalue())]), actor=user)
        figures += [("qr_zip_files", len(report.files), "files"),
                    ("qr_zip_s", round(time.perf_counter() - started, 2), "s")]
        del data
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    url, cleanup = fresh_database("first_hour")
    try:
        app = make_app(url)
        seed(app, args.stores)
        figures = measure(app, args.runs)
    finally:
        cleanup()
    for name, value, unit in figures:
        print(f"{name} {value} {unit}")


if __name__ == "__main__":
    main()
