"""Headless Chromium, the one way StoreMatrix turns HTML into PDF (a production dependency, see the README).

Each call prints one local HTML file to one PDF file in its own throw-away profile; several may
run at once. `--disable-pdf-tagging` skips the accessibility structure, which a wall plan does not
need and which made the files three times larger and slower to write. Not `--single-process`:
it prints as fast, but without the synthetic bold Chinese fonts such as WenQuanYi Micro Hei need.
"""
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
              "/usr/bin/google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         "--disable-pdf-tagging", "--no-pdf-header-footer", "--disable-crash-reporter",
         # Pages are local files: nothing may be fetched from the network while printing.
         "--host-resolver-rules=MAP * ~NOTFOUND")


class ChromiumError(Exception):
    """Chromium is missing or did not print; the message says what to do."""


def find_chromium(configured: str | None = None) -> str:
    """The browser to use: CHROMIUM_PATH when set, else the usual places; a clear error when none exists."""
    for candidate in ([configured] if configured else []) + list(CANDIDATES) + [shutil.which("chromium") or ""]:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    where = configured or ", ".join(CANDIDATES)
    raise ChromiumError(f"Chromium was not found ({where}). Install it on the machine that runs "
                        "`flask print-jobs` (Debian/Ubuntu: apt-get install chromium fonts-wqy-microhei) "
                        "or set CHROMIUM_PATH.")


@dataclass
class Printing:
    """A print in progress: wait() it, then read `pdf`."""

    process: subprocess.Popen
    pdf: Path
    profile: str

    def wait(self, timeout: float) -> Path:
        try:
            _out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise ChromiumError(f"Chromium took longer than {timeout:.0f} s to print {self.pdf.name}.") from None
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
        if self.process.returncode != 0 or not self.pdf.exists() or self.pdf.stat().st_size == 0:
            tail = err.decode(errors="replace").strip().splitlines()[-3:]
            raise ChromiumError(f"Chromium could not print {self.pdf.name} (exit {self.process.returncode}): "
                                + " | ".join(tail))
        return self.pdf


def start_print(html: Path, pdf: Path, *, chromium: str) -> Printing:
    """Start printing `html` (a local file) to `pdf`; the page's CSS sets the paper (@page)."""
    profile = tempfile.mkdtemp(prefix="matrix-chromium-")
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", html.resolve().as_uri()]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=os.environ | {"HOME": profile})
    return Printing(process, pdf, profile)


def print_pdf(html: Path, pdf: Path, *, chromium: str, timeout: float = 300) -> Path:
    """Print `html` to `pdf` and wait for it."""
    return start_print(html, pdf, chromium=chromium).wait(timeout)
