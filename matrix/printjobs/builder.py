"""Build one print job: its renderer's HTML in batches, printed by Chromium, checked and merged with pypdf.

Batches of PRINT_JOB_BATCH stores are rendered here while up to PRINT_JOB_PROCESSES Chromium
processes print the previous ones, and each printed batch joins the merged document as it comes
back, so rendering, printing and merging overlap. Every batch must come back
with exactly one page per store (the cover with one page): the count is read from each PDF, and a
batch that does not match fails the job with the numbers, rather than shipping a wrong document.
"""
import secrets
import tempfile
import time
from collections import deque
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from matrix.extensions import db
from matrix.printjobs import services
from matrix.printjobs.chromium import ChromiumError, Printing, find_chromium, start_print
from matrix.printjobs.models import PrintJob
from matrix.printjobs.renderers import PAPERS, renderer_for
from matrix.stores.models import Store


class BuildError(Exception):
    """The document cannot be made; the message is shown on the job's page."""


class Stopped(Exception):
    """The job was cancelled or another worker took it over."""


def _stores(ids: list[int]) -> list[Store]:
    found: dict[int, Store] = {}
    for start in range(0, len(ids), 900):  # under SQLite's limit of bound parameters
        found.update((s.id, s) for s in db.session.scalars(select(Store).where(Store.id.in_(ids[start:start + 900]))))
    return [found[i] for i in ids if i in found]


def _render(render, job: PrintJob, stores: list[Store], path: Path) -> Path:
    with current_app.test_request_context("/"), force_locale(job.locale):
        path.write_text(render(job, stores), encoding="utf-8")
    return path


def _pages(pdf: Path, paper: str) -> int:
    reader = PdfReader(pdf)
    if reader.pages:
        box = reader.pages[0].mediabox
        want = PAPERS[paper]
        if abs(float(box.width) - want[0]) > 2 or abs(float(box.height) - want[1]) > 2:
            raise BuildError(f"{pdf.name} came out {float(box.width):.0f} x {float(box.height):.0f} pt, "
                             f"not {paper}.")
    return len(reader.pages)


class _Build:
    def __init__(self, job: PrintJob, worker: str, work: Path):
        config = current_app.config
        self.job, self.worker, self.work = job, worker, work
        self.renderer = renderer_for(job.renderer)
        if self.renderer is None:
            raise BuildError(f"Unknown document type {job.renderer!r}.")
        self.chromium = find_chromium(config.get("CHROMIUM_PATH"))
        self.batch, self.processes = config["PRINT_JOB_BATCH"], config["PRINT_JOB_PROCESSES"]
        self.timeout = config["PRINT_JOB_TIMEOUT_S"]
        self.started = time.monotonic()
        self.running: deque[tuple[Printing, int]] = deque()
        self.done = 0
        self.writer = PdfWriter()

    def run(self) -> PdfWriter:
        stores = _stores(self.job.store_ids)
        if len(stores) != len(self.job.store_ids):
            raise BuildError(f"{len(self.job.store_ids) - len(stores)} stores of this document no longer exist.")
        cover = _render(self.renderer.cover, self.job, stores, self.work / "cover.html")
        self.running.append((start_print(cover, self.work / "cover.pdf", chromium=self.chromium), 0))
        for n, start in enumerate(range(0, len(stores), self.batch)):
            chunk = stores[start:start + self.batch]
            html = _render(self.renderer.pages, self.job, chunk, self.work / f"batch{n:05d}.html")
            while len(self.running) >= self.processes:
                self._collect()
            self.running.append((start_print(html, self.work / f"batch{n:05d}.pdf", chromium=self.chromium),
                                 len(chunk)))
        while self.running:
            self._collect()
        return self.writer

    def _collect(self) -> None:
        """Wait for the oldest print (the document's order), check its pages, merge it, record progress."""
        printing, stores = self.running.popleft()
        left = self.timeout - (time.monotonic() - self.started)
        if left <= 0:
            raise BuildError(f"The document took longer than {self.timeout:.0f} s.")
        pdf = printing.wait(min(left, current_app.config["PRINT_BATCH_TIMEOUT_S"]))
        pages, want = _pages(pdf, self.job.paper), stores or 1
        if pages != want:
            raise BuildError(f"{pdf.name}: Chromium printed {pages} pages for {want} "
                             f"{'stores' if stores else 'cover page'}.")
        self.writer.append(str(pdf))
        self.done += stores
        if not services.report_progress(self.job, worker=self.worker, pages_done=self.done):
            raise Stopped()

    def stop(self) -> None:
        for printing, _stores in self.running:
            printing.process.kill()
            printing.process.communicate()


def _write(writer: PdfWriter, target: Path) -> int:
    """Write the merged document; returns its page count read back from the file."""
    part = target.with_suffix(".part")
    with part.open("wb") as out:
        writer.write(out)
    part.replace(target)
    return len(PdfReader(target).pages)


def build_job(job: PrintJob, *, worker: str) -> bool:
    """Make the job's PDF and offer it; False when it failed, was cancelled or taken over."""
    folder = services.job_dir()
    with tempfile.TemporaryDirectory(dir=folder, prefix=f"job{job.id}-") as work:
        build = None
        try:
            build = _Build(job, worker, Path(work))
            writer = build.run()
            name = f"print-{job.id}-{secrets.token_hex(8)}.pdf"
            pages = _write(writer, folder / name)
            if pages != job.pages_total + 1:
                (folder / name).unlink(missing_ok=True)
                raise BuildError(f"The merged PDF has {pages} pages for {job.pages_total} stores and a cover.")
            size = (folder / name).stat().st_size
            if size > current_app.config["PRINT_JOB_MAX_MB"] * 1024 * 1024:
                (folder / name).unlink(missing_ok=True)
                raise BuildError(f"The PDF is {size // 1024 // 1024} MB, over PRINT_JOB_MAX_MB.")
            if not services.finish_job(job, worker=worker, file_name=name, file_size=size, page_count=pages):
                (folder / name).unlink(missing_ok=True)
                return False
            return True
        except Stopped:
            return False
        except (BuildError, ChromiumError, OSError) as e:
            services.fail_job(job, worker=worker, error=str(e))
            return False
        finally:
            if build is not None:
                build.stop()
