"""End-to-end browsing: the app served on 127.0.0.1 with real cookies, Playwright driving Debian's Chromium.

`browse(user, phone=True)` gives a `Tab`: a page of its own browser context, signed in through the real form
(CSRF, CSP and session protection all on). Every page a test opens goes through `Tab.visit` (or `Tab.arrived`
after a click), which runs the checks in PAGE_CHECKS on it: a check added there runs on every page of every flow
(E2E_AXE_ALL=1 adds axe-core). `nav_pages(tab)` lists the pages a role reaches from the navigation. No request
leaves 127.0.0.1 (Chromium resolves no other name); those tried are recorded in `Tab.outside`.
"""
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import PASSWORD
from werkzeug.serving import make_server

from matrix.auth.models import User

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run",
         # No test reaches the internet: every name but the served app's address fails to resolve, no proxy.
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--no-proxy-server"]
PHONE = {"width": 390, "height": 844}      # an iPhone 12-15's CSS pixels
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = Path(os.environ.get("E2E_SCREENSHOTS") or Path(__file__).resolve().parent / "screenshots")


def _playwright():
    """Playwright's sync API once it and the browser are here; else a skip (a failure when CI requires them)."""
    required = os.environ.get("MATRIX_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "the playwright package (pip install -r tests/requirements.txt)"
    else:
        if Path(CHROMIUM).exists():
            return sync_playwright
        missing = f"{CHROMIUM} (apt-get install chromium fonts-wqy-microhei)"
    if required:
        pytest.fail(f"{missing} is missing but MATRIX_REQUIRE_BROWSER=1")
    pytest.skip(f"{missing} is missing; set MATRIX_REQUIRE_BROWSER=1 to make this a failure")


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module; each Tab gets a fresh context (cookies, viewport, language)."""
    sync_playwright = _playwright()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def served(app, monkeypatch):
    """The app on a free port of 127.0.0.1, as it runs in production: real cookies, CSRF and headers.

    The chain's language is Chinese, as by default (the suite's is English): texts the app stores for
    everyone, such as a lead's routing reason or a trailer's caption, read as a chain's staff see them.
    """
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "zh")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def no_page_errors(tab: "Tab") -> None:
    """No script error and no Content-Security-Policy refusal in the console."""
    assert not tab.errors, f"{tab.page.url}: {tab.errors}"


def no_sideways_scroll(tab: "Tab") -> None:
    """On a phone the page itself never scrolls sideways (wide tables scroll inside their own box)."""
    if tab.page.viewport_size["width"] > 480:
        return
    wide = tab.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0, f"{tab.page.url} is {wide} px wider than the phone"


def no_squeezed_title(tab: "Tab") -> None:
    """On a phone the page's title is not squeezed into a sliver beside its buttons (Chinese wraps per character)."""
    if tab.page.viewport_size["width"] > 480 or tab.page.locator("main h1").count() != 1:
        return
    width, lines = tab.page.eval_on_selector("main h1", """h1 => {
        const box = h1.getBoundingClientRect(), style = getComputedStyle(h1);
        const line = parseFloat(style.lineHeight) || 1.2 * parseFloat(style.fontSize);
        return [box.width, Math.round(box.height / line)];
    }""")
    assert width >= tab.page.viewport_size["width"] / 2 or lines <= 2, \
        f"{tab.page.url}: the title is {width:.0f} px wide on {lines} lines"


def shoot_every_page(tab: "Tab") -> None:
    """E2E_SHOOT_ALL=1: every page opened is saved as <role>-<path>.png, to look over them all by eye."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", tab.path).strip("-") or "home"
    tab.shoot(f"all-{tab.role}-{'phone-' if tab.page.viewport_size['width'] <= 480 else ''}{slug}")


# axe-core (MPL-2.0, vendored from the npm registry: tests/vendor/) judges a page against WCAG 2.2 AA.
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_FAILS = ("serious", "critical")
_RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
}"""


def axe_violations(tab: "Tab") -> list[str]:
    """The serious and critical axe-core violations of the page as it is now, one line each.

    Injected through the DevTools protocol, which the page's Content-Security-Policy does not govern:
    the app's own policy stays on while axe looks at it.
    """
    if not tab.page.evaluate("typeof window.axe === 'object'"):
        tab.page.evaluate(AXE.read_text())
    width = tab.page.viewport_size["width"]
    return [f"{tab.path} at {width} px: {v['impact']} {v['id']} ({v['help']}): {', '.join(v['nodes'])}"
            for v in tab.page.evaluate(_RUN_AXE) if v["impact"] in AXE_FAILS]


def no_serious_axe_violation(tab: "Tab") -> None:
    """E2E_AXE_ALL=1: axe-core on every page every flow opens (test_e2e_accessibility walks the pages anyway)."""
    found = axe_violations(tab)
    assert not found, "\n".join(found)


# Run on every page a flow opens, in order.
PAGE_CHECKS: list[Callable[["Tab"], None]] = [no_page_errors, no_sideways_scroll, no_squeezed_title]
if os.environ.get("E2E_SHOOT_ALL") == "1":
    PAGE_CHECKS.append(shoot_every_page)
if os.environ.get("E2E_AXE_ALL") == "1":
    PAGE_CHECKS.append(no_serious_axe_violation)


@dataclass
class Tab:
    """One browser context and page of one role, with the served app's address."""
    page: object
    base: str
    role: str
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)   # URLs the page tried to open beyond the app (they fail)

    def url(self, path: str) -> str:
        return self.base + path

    def visit(self, path: str, status: int = 200):
        """Open a page of the app, check its status and run PAGE_CHECKS on it; returns the response."""
        response = self.page.goto(self.url(path))
        assert response is not None and response.status == status, f"{path}: {response and response.status}"
        self.arrived()
        return response

    def arrived(self) -> None:
        """Run PAGE_CHECKS on the page a click or a form has led to."""
        self.page.wait_for_load_state()
        for check in PAGE_CHECKS:
            check(self)

    @property
    def path(self) -> str:
        parts = urlsplit(self.page.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def text(self, selector: str = "main") -> str:
        return self.page.inner_text(selector)

    def shoot(self, name: str, *, full_page: bool = True) -> Path:
        """Save a screenshot as SCREENSHOTS/<name>.png (the README shows some of them)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


def nav_pages(tab: Tab) -> list[str]:
    """The paths the main navigation of the current page offers this role, in its order."""
    hrefs = tab.page.eval_on_selector_all("nav.mainnav a", "links => links.map(a => a.getAttribute('href'))")
    return list(dict.fromkeys(hrefs))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so `browse` can tell a failed test and keep its pages."""
    report = yield
    setattr(item, f"e2e_{report.when}", report)
    return report


@pytest.fixture
def browse(request, served, chromium):
    """A builder of Tabs: `browse(user, phone=True)` signs `user` in through the form; no user, a visitor.

    When the test fails, every tab it opened is saved as SCREENSHOTS/failed-<test>-<n>.png.
    """
    contexts, tabs = [], []

    def open_tab(user: User | None = None, *, phone: bool = False, locale: str = "zh-CN") -> Tab:
        context = chromium.new_context(viewport=PHONE if phone else DESKTOP, locale=locale,
                                       device_scale_factor=1, is_mobile=phone, has_touch=phone)
        context.set_default_timeout(10_000)
        contexts.append(context)
        tab = Tab(context.new_page(), served, user.role.value if user else "visitor")
        _record_errors(tab)
        tabs.append(tab)
        if user is not None:
            sign_in(tab, user)
        return tab

    yield open_tab
    report = getattr(request.node, "e2e_call", None)
    if report is not None and report.failed:
        for n, tab in enumerate(tabs, 1):
            print(f"{tab.role} tab at {tab.page.url}: {tab.shoot(f'failed-{request.node.name}-{n}')}")
    for context in contexts:
        context.close()


def _record_errors(tab: Tab) -> None:
    """Script errors, CSP refusals (console errors), failed sub-resources and requests beyond the app.

    A page's own status is visit's to check; a link may lead outside (it fails there, and is recorded).
    """
    def console(message):
        # Chromium logs every 4xx as a console error too: sub-resources are counted below, the page by visit().
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            tab.errors.append(message.text)

    def response(answer):
        if answer.request.resource_type != "document" and answer.status >= 400:
            tab.errors.append(f"{answer.status} for {answer.url}")

    def request(asked):
        if not asked.url.startswith((tab.base + "/", "data:")):
            tab.outside.append(asked.url)

    def failed(asked):
        if asked.resource_type != "document":
            tab.errors.append(f"{asked.url} failed: {asked.failure}")
    tab.page.on("pageerror", lambda error: tab.errors.append(f"script error: {error}"))
    tab.page.on("console", console)
    tab.page.on("response", response)
    tab.page.on("request", request)
    tab.page.on("requestfailed", failed)


def sign_in(tab: Tab, user: User) -> None:
    """Through the sign-in form, as a person does."""
    tab.visit("/login")
    tab.page.fill("input[name=username]", user.username)
    tab.page.fill("input[name=password]", PASSWORD)
    with tab.page.expect_navigation():
        tab.page.click("form button.primary")
    assert "/login" not in tab.page.url, tab.text()
    tab.arrived()
