"""Every user-facing string has a Chinese translation, and the compiled catalog is current."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
METHODS = [("matrix/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _not_hidden(dirpath: str) -> bool:
    # Babel's default filter also skips folders starting with "_", and so templates/_macros: keep those.
    return not Path(dirpath).name.startswith(".")


def source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS,
                                                                   directory_filter=_not_hidden):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_chinese_translation():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh")
    missing = sorted(m for m in source_messages()
                     if not (catalog.get(m) and catalog.get(m).string and not catalog.get(m).fuzzy))
    assert not missing, f"{len(missing)} strings lack a Chinese translation, e.g. {missing[:10]}"


def _hashable(value):
    """read_mo gives plural (ngettext) entries as lists and contexts as bytes; read_po tuples and str."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return tuple(value) if isinstance(value, list) else value


def test_compiled_catalog_matches_po():
    with PO.open("rb") as f:
        po = {(m.context, m.id): m.string for m in read_po(f, locale="zh") if m.id and m.string and not m.fuzzy}
    with MO.open("rb") as f:
        mo = {(_hashable(m.context), _hashable(m.id)): _hashable(m.string) for m in read_mo(f) if m.id}
    assert po == mo, "run: pybabel compile -d translations"


def test_pages_are_chinese_by_default():
    from config import Config, TestConfig
    from matrix import create_app

    class ShippedDefault(TestConfig):
        BABEL_DEFAULT_LOCALE = Config.BABEL_DEFAULT_LOCALE

    assert ShippedDefault.BABEL_DEFAULT_LOCALE == "zh"
    html = create_app(ShippedDefault).test_client().get("/login").get_data(as_text=True)
    assert 'lang="zh-Hans"' in html and "登录" in html
