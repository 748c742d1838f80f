"""What the audit log calls its actions and the things they changed, in the reader's language."""
from flask_babel import lazy_gettext as _l

ACTION_LABELS = {"create": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"),
                 "archive": _l("Archived"), "restore": _l("Restored"), "import": _l("Imported"),
                 "sign_in": _l("Signed in"), "generate": _l("Generated"), "export": _l("Exported"),
                 "follow_up": _l("Followed up"), "move": _l("Moved"), "note": _l("Noted"), "reassign": _l("Reassigned"),
                 "retry": _l("Retried"), "reveal_phone": _l("Revealed a phone number"), "revoke": _l("Revoked"),
                 "rotate_secret": _l("Rotated the secret"), "status": _l("Changed the status"),
                 "approve": _l("Approved"), "reject": _l("Rejected"), "cancel": _l("Cancelled"),
                 "results": _l("Entered results"), "adopt": _l("Adopted from WeCom"), "test": _l("Tested"),
                 "disconnect": _l("Disconnected"), "request": _l("Requested"), "discard": _l("Discarded"),
                 "sign_out": _l("Signed out")}
ENTITY_LABELS = {"store": _l("Store"), "account": _l("Account"), "community": _l("Community"),
                 "user": _l("User"), "brand": _l("Brand"), "platform": _l("Platform"), "campaign": _l("Campaign"),
                 "content_template": _l("Content template"), "content_item": _l("Content item"), "lead": _l("Lead"),
                 "lead_source": _l("Lead source"), "notification": _l("Delivery"),
                 "calendar_feed": _l("Calendar feed"), "live_session": _l("Live session"),
                 "trailer_rule": _l("Trailer rule"), "live_settings": _l("Live settings"), "demo": _l("Demo data"),
                 "seed": _l("Generated data"), "wecom_connection": _l("WeCom connection"),
                 "join_way": _l("WeCom join code"), "import_upload": _l("Pending import"),
                 "staff_channel": _l("Staff channel"), "store_posts": _l("Community posts"),
                 "broadcast_settings": _l("Reminder and digest settings")}
