"""A small browser over the Flask test client: follows redirects, submits a page's own forms (hidden fields,
defaults and all, as a browser sends them) and counts every request it makes."""
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit


@dataclass
class Form:
    action: str
    method: str = "get"
    enctype: str = ""
    fields: list[list] = field(default_factory=list)   # [name, value] as the browser would send them
    names: set = field(default_factory=set)             # every field the form has, sent or not (unticked boxes)

    def values(self, changes: dict | None = None) -> list[tuple[str, object]]:
        """The form's fields with `changes` applied (a list value sends the name several times)."""
        changes = dict(changes or {})
        out = [(n, v) for n, v in self.fields if n not in changes]
        for name, value in changes.items():
            out.extend((name, v) for v in (value if isinstance(value, list) else [value]))
        return out


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: tuple | None = None   # (name, multiple, options [(value, selected)])
        self.option: dict | None = None
        self.textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.form = Form(a.get("action") or "", (a.get("method") or "get").lower(), a.get("enctype") or "")
            self.forms.append(self.form)
        if self.form is None:
            return
        if tag == "input" and a.get("name"):
            self.form.names.add(a["name"])
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.form.fields.append([a["name"], a.get("value", "on" if kind in ("checkbox", "radio") else "")])
        elif tag == "select" and a.get("name"):
            self.form.names.add(a["name"])
            self.select = (a["name"], "multiple" in a, [])
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
            self.select[2].append(self.option)
        elif tag == "textarea" and a.get("name"):
            self.form.names.add(a["name"])
            self.textarea = [a["name"], ""]

    def handle_data(self, data):
        if self.option is not None and self.option["value"] is None:
            self.option["text"] += data
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "option":
            self.option = None
        elif tag == "select" and self.select is not None:
            name, multiple, options = self.select
            values = [o["value"] if o["value"] is not None else o["text"].strip() for o in options]
            chosen = [v for o, v in zip(options, values) if o["selected"]] or ([] if multiple else values[:1])
            self.form.fields.extend([name, v] for v in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.form.fields.append([self.textarea[0], self.textarea[1].removeprefix("\n")])
            self.textarea = None
        elif tag == "form":
            self.form = None


@dataclass
class Page:
    url: str
    status: int
    html: str
    data: bytes = b""

    @property
    def forms(self) -> list[Form]:
        parser = _FormParser()
        parser.feed(self.html)
        return parser.forms

    def form(self, *, action: str | None = None, having: str | None = None) -> Form:
        """The page's form whose action ends with `action` (or is the page itself) and that has field `having`."""
        for form in self.forms:
            target = form.action or self.url
            if (action is None or urlsplit(target).path.endswith(action)) and (having is None or having in form.names):
                form.action = target
                return form
        raise AssertionError(f"{self.url}: no form with action {action!r} and field {having!r}")


class Browser:
    """One person's browser: a cookie jar (the test client), and the count of requests it made.

    Each request runs in an application context of its own, as on a server: the suite's shared context would
    let one person's signed-in user (Flask-Login keeps it in `g`) answer another person's request.
    """

    def __init__(self, client):
        self.client = client
        self.requests = 0

    def _send(self, method: str, url: str, **kwargs):
        self.requests += 1
        with self.client.application.app_context():
            return getattr(self.client, method)(url, **kwargs)

    def _follow(self, response) -> Page:
        while response.status_code in (301, 302, 303):
            target = urlsplit(response.headers["Location"])
            response = self._send("get", target.path + (f"?{target.query}" if target.query else ""))
        path = response.request.path if response.request else ""
        is_html = response.mimetype == "text/html"
        return Page(path, response.status_code, response.get_data(as_text=True) if is_html else "", response.data)

    def open(self, url: str) -> Page:
        """GET a page as a typed address or a clicked link."""
        page = self._follow(self._send("get", url))
        page.url = page.url or url
        return page

    def submit(self, form: Form, changes: dict | None = None, files: dict | None = None) -> Page:
        """Send a form as the browser would: its own fields, what the person changed, the files they chose."""
        values = form.values(changes)
        if form.method == "get":
            separator = "&" if "?" in form.action else "?"
            return self._follow(self._send("get", form.action + separator + urlencode(values)))
        data: dict = {}
        for name, value in values:
            data.setdefault(name, []).append(value)
        for name, chosen in (files or {}).items():
            data[name] = chosen if isinstance(chosen, list) else [chosen]
        content_type = "multipart/form-data" if files or form.enctype == "multipart/form-data" else None
        return self._follow(self._send("post", form.action, data=data, content_type=content_type))
