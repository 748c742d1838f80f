"""A store's task list (its manager, on a phone): the accounts and group HQ handed over, filled in one by one."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from matrix.accounts.models import Platform
from matrix.communities.models import Community
from matrix.errors import DomainError
from matrix.extensions import db
from matrix.forms import show_error
from matrix.onboarding.blueprint import bp, suggested_names
from matrix.onboarding.forms import StoreAccountForm, StoreGroupForm
from matrix.onboarding.gaps import chain_gaps, hq_chain_gaps
from matrix.onboarding.handover import add_store_account, fill_store_group
from matrix.onboarding.naming import naming_rules
from matrix.permissions import get_community_or_404, get_store_or_404


@bp.get("/mine")
@login_required
def mine():
    """The stores the user runs and what each still lacks; one store opens its list straight away."""
    stores = hq_chain_gaps(current_user)
    if len(stores) == 1 and not current_user.is_hq:
        return redirect(url_for(".store", store_id=stores[0].id))
    return render_template("onboarding/mine.html", stores=stores)


@bp.get("/stores/<int:store_id>")
@login_required
def store(store_id: int):
    """One store's missing accounts and group, each with its own small form."""
    return _store_page(get_store_or_404(current_user, store_id))


@bp.post("/stores/<int:store_id>/accounts")
@login_required
def store_account(store_id: int):
    """Record the store's account on a platform it lacks."""
    row = get_store_or_404(current_user, store_id)
    form = StoreAccountForm()
    if form.validate_on_submit():
        platform = db.session.get(Platform, int(form.platform_id.data)) if form.platform_id.data.isdigit() else None
        if platform is None or not platform.enabled:
            abort(404)
        try:
            account = add_store_account(row, platform=platform, handle=form.handle.data,
                                        profile_url=form.profile_url.data or "",
                                        display_name=form.display_name.data or "", actor=current_user)
        except DomainError as e:
            show_error(form, e, default_field="handle")
        else:
            flash(_("%(platform)s account @%(handle)s saved.", platform=platform.name_zh, handle=account.handle),
                  "success")
            return redirect(url_for(".store", store_id=row.id))
    return _store_page(row, account_form=form, status=422)


@bp.post("/stores/<int:store_id>/groups")
@login_required
def store_group(store_id: int):
    """Record the store's group with its QR code or link (a new group, or one customers cannot join yet)."""
    row = get_store_or_404(current_user, store_id)
    form = StoreGroupForm()
    if form.validate_on_submit():
        group = _group_of(row.id, form.community_id.data)
        upload = form.qr_upload.data
        image = upload.read() if upload and upload.filename else None
        try:
            fill_store_group(row, name=form.name.data, invite_link=form.invite_link.data or "", qr_image=image,
                             actor=current_user, group=group)
        except DomainError as e:
            show_error(form, e, aliases={"qr_image": "qr_upload", "store_id": "name"}, default_field="name")
        else:
            flash(_("Group %(name)s saved.", name=form.name.data), "success")
            return redirect(url_for(".store", store_id=row.id))
    return _store_page(row, group_form=form, status=422)


def _group_of(store_id: int, community_id: int | None) -> Community | None:
    if community_id is None:
        return None
    group = get_community_or_404(current_user, community_id)
    if group.store_id != store_id:
        abort(404)
    return group


def _store_page(row, *, account_form: StoreAccountForm | None = None, group_form: StoreGroupForm | None = None,
                status: int = 200):
    gaps = chain_gaps(current_user, store_ids=[row.id])
    if not gaps:  # a closed store has nothing to fill
        return render_template("onboarding/store.html", store=row, gaps=None, names={}), status
    names = suggested_names(naming_rules(), gaps[0])
    return render_template("onboarding/store.html", store=row, gaps=gaps[0], names=names, account_form=account_form,
                           group_form=group_form, fresh_account=StoreAccountForm, fresh_group=StoreGroupForm), status
