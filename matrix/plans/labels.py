"""Display names of the planning enums, shared by the week view, the print and the feed."""
from flask_babel import lazy_gettext as _l, lazy_pgettext

# "Planned" is also a store status (筹备中); the context lets a content item say 待执行.
ITEM_STATUS_LABELS = {"planned": lazy_pgettext("content item", "Planned"), "shot": _l("Shot"),
                      "published": _l("Published"), "skipped": _l("Skipped"), "cancelled": _l("Cancelled")}
CONTENT_KIND_LABELS = {"short_video": _l("Short video"), "image_post": _l("Image post"),
                       "live": _l("Live session"), "trailer": _l("Trailer")}
APPROVAL_LABELS = {"not_needed": _l("No approval needed"), "pending": _l("Waiting for approval"),
                   "approved": _l("Approved"), "rejected": _l("Rejected")}
SOURCE_LABELS = {"campaign": _l("Campaign"), "store": _l("Store's own"), "trailer": _l("Session trailer")}


def labels() -> dict:
    """The label dicts for a template context."""
    return {"ITEM_STATUS_LABELS": ITEM_STATUS_LABELS, "CONTENT_KIND_LABELS": CONTENT_KIND_LABELS,
            "APPROVAL_LABELS": APPROVAL_LABELS, "SOURCE_LABELS": SOURCE_LABELS}
