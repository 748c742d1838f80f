"""How a form or a list filter offers the user's stores.

A store manager runs a handful of stores: a <select> lists them. HQ of a chain of thousands would get a page of
thousands of <option>s, so past SELECT_MAX stores the store is typed by its code into an input with a <datalist>
of at most SELECT_MAX suggestions, and the code is looked up here among the stores the user may pick. No
JavaScript: the browser shows the suggestions, the server checks the code. The fields are
matrix.forms.StoreFields; templates/_macros/forms.html draws them (store_field, store_filter).
"""
from functools import cached_property

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select

from matrix.auth.models import User
from matrix.extensions import db
from matrix.permissions import visible_stores
from matrix.regions.services import region_name
from matrix.stores.chain_cache import chain_summary
from matrix.stores.models import Store

SELECT_MAX = 200  # stores a <select> may list; past it, a code input with at most this many suggestions
NO_STORE = -1  # an id no store has: a filter on an unknown code shows nothing rather than everything


def store_choices(user: User, current: Store | None = None) -> list[tuple[int, str]]:
    """(id, "code name") of the stores the user may pick; `current` stays pickable even if archived."""
    rows = db.session.execute(visible_stores(user).with_only_columns(Store.id, Store.code, Store.name)
                              .order_by(Store.code)).all()
    choices = [(row.id, f"{row.code} {row.name}") for row in rows]
    if current is not None and current.id not in {row.id for row in rows}:
        choices.append((current.id, f"{current.code} {current.name}"))
    return choices


def offers_select(user: User) -> bool:
    """Few enough stores for a <select> (counted no further than one past the limit)."""
    some = visible_stores(user).with_only_columns(Store.id).limit(SELECT_MAX + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(some)) <= SELECT_MAX


def find_store(user: User, code: str, *, current: Store | None = None, include_archived: bool = False) -> Store | None:
    """The store with this code among those the user may pick, whatever the case typed; `current` always counts."""
    code = code.strip()
    if current is not None and current.code.lower() == code.lower():
        return current
    found = db.session.scalars(visible_stores(user, include_archived=include_archived)
                               .where(func.lower(Store.code) == code.lower()).limit(2)).all()
    exact = [store for store in found if store.code == code]
    return exact[0] if exact else (found[0] if len(found) == 1 else None)


def suggest_stores(user: User, typed: str = "") -> list[tuple[str, str]]:
    """At most SELECT_MAX (code, name): the stores whose code or name holds what was typed, then the first by code."""
    def first(query, limit: int) -> list[tuple[str, str]]:
        return [(row.code, row.name) for row in db.session.execute(
            query.with_only_columns(Store.code, Store.name).order_by(Store.code).limit(limit))]

    typed = typed.strip()[:40]
    matching = first(visible_stores(user).where(or_(Store.code.icontains(typed, autoescape=True),
                                                    Store.name.icontains(typed, autoescape=True))),
                     SELECT_MAX) if typed else []
    seen = {code for code, _name in matching}
    rest = first(visible_stores(user), SELECT_MAX) if len(matching) < SELECT_MAX else []
    return (matching + [row for row in rest if row[0] not in seen])[:SELECT_MAX]


def unknown_code(code: str) -> str:
    return _("No store you can choose has the code “%(code)s”.", code=code)


class StorePicker:
    """What the page shows for a store: the options of a select, or a code input's text and its suggestions."""

    def __init__(self, user: User, *, current: Store | None = None):
        self.user, self.current = user, current

    @cached_property
    def is_select(self) -> bool:
        return offers_select(self.user)

    @cached_property
    def choices(self) -> list[tuple[int, str]]:
        return store_choices(self.user, self.current) if self.is_select else []

    @property
    def code(self) -> str:
        return self.current.code if self.current is not None else ""

    @cached_property
    def suggestions(self) -> list[tuple[str, str]]:
        return [] if self.is_select else suggest_stores(self.user, self.code)


class FormStorePicker(StorePicker):
    """The store of a form with StoreFields; the code input shows what was typed, else the chosen store's code."""

    def __init__(self, form: FlaskForm, user: User, *, current: Store | None = None):
        super().__init__(user, current=current)
        self.form = form

    @property
    def code(self) -> str:
        if self.form.store_code.raw_data:  # the page had the code input: show what was typed, as typed
            return self.form.store_code.data or ""
        store_id = self.form.store_id.data  # set by the view after offer_stores (an edit, ?store_id=)
        if not isinstance(store_id, int):
            return ""
        code = db.session.scalar(visible_stores(self.user, include_archived=True)
                                 .with_only_columns(Store.code).where(Store.id == store_id))
        return code or ""


def offer_stores(form: FlaskForm, user: User, *, current: Store | None = None, blank: str | None = None) -> None:
    """Fill the form's store select, or set up its code input; a posted code becomes form.store_id.

    Whichever input the page had decides, whatever the limit is now: a posted store_code is looked up among the
    user's stores (empty means none); a posted store_id stays for the view to check (a forged one answers 404).
    `current` (the store the object has now) stays pickable even when archived.
    """
    picker = form.store_picker = FormStorePicker(form, user, current=current)
    form.store_id.choices = ([("", blank)] if blank else []) + picker.choices
    if not form.store_code.raw_data:
        return
    typed = (form.store_code.data or "").strip()
    store = find_store(user, typed, current=current) if typed else None
    form.store_id.data = store.id if store is not None else None
    if typed and store is None:
        # A processing error survives validate() (which starts from these) and makes it fail: nothing is saved.
        form.store_code.process_errors.append(unknown_code(typed))


class StoreFilter(StorePicker):
    """The store a list is narrowed to, and how its filter offers the others."""

    def __init__(self, user: User, *, store: Store | None = None, store_id: int | None = None, code: str = "",
                 error: str | None = None):
        super().__init__(user, current=store)
        self.store, self.store_id, self.typed, self.error = store, store_id, code, error

    @property
    def code(self) -> str:
        return self.typed or super().code

    @property
    def forged(self) -> bool:
        """An id was given that names no store the user may see."""
        return self.store_id not in (None, NO_STORE) and self.store is None


def filter_store(user: User, args) -> StoreFilter:
    """The store filter of a list: ?store=<id> (the app's links), ?store=<code>, or the code input's ?store_code=.

    Digits in `store` are an id, so links keep working; a store code made of digits is typed into store_code.
    Archived stores still filter (their history is listed); an unknown code is an error and matches nothing.
    """
    typed = (args.get("store_code") or "").strip()
    given = (args.get("store") or "").strip()
    if not typed and given.isdecimal() and len(given) < 10:
        store_id = int(given)
        store = db.session.scalar(visible_stores(user, include_archived=True).where(Store.id == store_id))
        return StoreFilter(user, store=store, store_id=store_id)
    code = typed or given
    if not code:
        return StoreFilter(user)
    store = find_store(user, code, include_archived=True)
    if store is None:
        return StoreFilter(user, store_id=NO_STORE, code=code, error=unknown_code(code))
    return StoreFilter(user, store=store, store_id=store.id)


def city_choices(user: User) -> list[tuple[str, str]]:
    """The cities of the user's visible stores, for a filter (HQ's: the whole chain's, kept per process)."""
    def build() -> list[tuple[str, str]]:
        codes = db.session.scalars(visible_stores(user).with_only_columns(Store.city_code).distinct())
        return sorted((code, region_name(code)) for code in codes)
    return chain_summary("city_choices", build) if user.is_hq else build()
