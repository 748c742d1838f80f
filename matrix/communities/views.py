"""A store's WeCom/WeChat groups: the list, one group with its QR code, and the store's rotation."""
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_
from sqlalchemy.orm import contains_eager, defer

from matrix.forms import ConfirmForm, preselect_only_choice, show_error
from matrix.stores.picker import city_choices
from matrix.communities import services
from matrix.communities.forms import CommunityForm, MoveForm
from matrix.communities.models import Community, CommunityKind
from matrix.communities.values import MAX_QR_BYTES, check_qr_image, clean_community
from matrix.errors import DomainError, FieldErrors
from matrix.extensions import db
from matrix.permissions import get_community_or_404, get_store_or_404, visible_communities
from matrix.stores.models import Store
from matrix.stores.picker import filter_store, offer_stores

bp = Blueprint("communities", __name__, url_prefix="/communities")


def _filtered_communities(args, store_id: int | None):
    # The QR image stays in the database: a list of 50 groups must not load 50 images.
    query = (visible_communities(current_user).join(Community.store)
             .options(contains_eager(Community.store), defer(Community.qr_image)))
    if city := args.get("city"):
        query = query.where(Store.city_code == city)
    if store_id is not None:
        query = query.where(Community.store_id == store_id)
    if (kind := args.get("kind")) in set(CommunityKind):
        query = query.where(Community.kind == CommunityKind(kind))
    if (full := args.get("full")) in ("yes", "no"):
        query = query.where(Community.members >= Community.capacity if full == "yes"
                            else Community.members < Community.capacity)
    if args.get("no_robot"):
        query = query.where(or_(Community.robot_webhook_url.is_(None), Community.robot_webhook_url == ""))
    if (active := args.get("active")) in ("yes", "no"):
        query = query.where(Community.active.is_(active == "yes"))
    return query.order_by(Store.code, Community.rotation_order, Community.id)


@bp.get("/")
@login_required
def index():
    """The groups of the stores in the user's scope, filtered."""
    store_filter = filter_store(current_user, request.args)
    page = db.paginate(_filtered_communities(request.args, store_filter.store_id),
                       page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("communities/index.html", page=page, cities=city_choices(current_user),
                           store_filter=store_filter, kinds=list(CommunityKind))


@bp.get("/<int:community_id>")
@login_required
def detail(community_id: int):
    """One group, its QR code and the store's whole rotation."""
    community = get_community_or_404(current_user, community_id)
    return render_template("communities/detail.html", community=community,
                           rotation=services.rotation(community.store_id),
                           current=services.current_community(community.store_id), move_form=MoveForm())


@bp.get("/<int:community_id>/qr")
@login_required
def qr(community_id: int):
    """The group's QR image, as uploaded (its type was checked then)."""
    community = get_community_or_404(current_user, community_id)
    if not community.qr_image:
        abort(404)
    response = Response(community.qr_image, mimetype=community.qr_mime or "application/octet-stream")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _target_store(form: CommunityForm, community: Community | None = None) -> int | None:
    """The store asked for, in the user's scope: a forged store id answers 404."""
    store_id = form.store_id.data
    if store_id is not None and not (community and store_id == community.store_id):
        get_store_or_404(current_user, store_id)
    return store_id


def _uploaded_qr(form: CommunityForm) -> tuple[bytes | None, dict]:
    upload = form.qr_upload.data
    if not upload:
        return None, {}
    data = upload.read(MAX_QR_BYTES + 1)  # one byte more is enough to say "too large"
    try:
        check_qr_image(data)
    except DomainError as e:
        return None, {"qr_upload": e.message}
    return data, {}


def _save(form: CommunityForm, community: Community | None = None) -> Community | None:
    """Validate and save through the services; None when the form must be shown again."""
    store_id = _target_store(form, community)
    if not form.validate_on_submit():
        return None
    qr_image, qr_errors = _uploaded_qr(form)
    same_store = community is not None and community.store_id == store_id
    order = community.rotation_order if same_store else services.next_rotation_order(store_id or 0)
    cleaned = clean_community(form.raw(store_id=store_id, rotation_order=order))
    if errors := cleaned.errors | qr_errors:  # every problem at once, and nothing saved
        show_error(form, FieldErrors(errors))
        return None
    try:
        if community is None:
            community = services.create_community(cleaned, actor=current_user, qr_image=qr_image)
        else:
            services.update_community(community, cleaned, actor=current_user, qr_image=qr_image,
                                      keep_webhook=not form.clear_webhook.data)
    except DomainError as e:
        show_error(form, e)
        return None
    for warning in cleaned.warnings.values():  # saved, but worth a second look
        flash(warning, "warning")
    return community


def _initial(community: Community) -> dict:
    return {"store_id": community.store_id, "name": community.name, "kind": community.kind.value,
            "invite_link": community.invite_link or "", "capacity": str(community.capacity),
            "members": str(community.members), "wecom_chat_id": community.wecom_chat_id or "",
            "active": community.active}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Add a group to a store's rotation."""
    form = CommunityForm()
    offer_stores(form, current_user, blank=_("Choose a store"))
    if request.method == "GET":
        if store_id := request.args.get("store_id", type=int):
            form.store_id.data = get_store_or_404(current_user, store_id).id
        preselect_only_choice(form.store_id)
        return render_template("communities/form.html", form=form, community=None)
    community = _save(form)
    if community:
        flash(_("Group %(name)s added.", name=community.name), "success")
        return redirect(url_for("communities.detail", community_id=community.id))
    return render_template("communities/form.html", form=form, community=None), 422


@bp.route("/<int:community_id>/edit", methods=["GET", "POST"])
@login_required
def edit(community_id: int):
    """Change a group; an empty robot field keeps the stored webhook."""
    community = get_community_or_404(current_user, community_id)
    form = CommunityForm(data=_initial(community))
    offer_stores(form, current_user, current=community.store)
    if request.method == "GET":
        return render_template("communities/form.html", form=form, community=community)
    if _save(form, community):
        flash(_("Group %(name)s saved.", name=community.name), "success")
        return redirect(url_for("communities.detail", community_id=community.id))
    return render_template("communities/form.html", form=form, community=community), 422


@bp.route("/<int:community_id>/delete", methods=["GET", "POST"])
@login_required
def delete(community_id: int):
    """Ask, then delete a group and take it out of the rotation."""
    community = get_community_or_404(current_user, community_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name, store_id = community.name, community.store_id
        services.delete_community(community, actor=current_user)
        flash(_("Group %(name)s deleted.", name=name), "success")
        return redirect(url_for("communities.index", store=store_id))
    return render_template("communities/delete.html", form=form, community=community)


@bp.post("/<int:community_id>/move")
@login_required
def move(community_id: int):
    """Move a group one place up or down in its store's rotation."""
    community = get_community_or_404(current_user, community_id)
    form = MoveForm()
    if not form.validate_on_submit():
        flash(_("A group moves up or down."), "error")
    elif not services.move_community(community, direction=form.direction.data, actor=current_user):
        flash(_("The group is already at that end of the rotation."), "warning")
    return redirect(url_for("communities.detail", community_id=community.id))
