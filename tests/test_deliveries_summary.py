"""The deliveries page's cards count each status, and the failed deliveries never attempted, in one query."""
import re

from matrix.auth.models import Role
from matrix.extensions import db
from matrix.notifications.models import DeliveryStatus, Notification, NotificationKind


def test_the_cards_count_every_status(client, login, make_user, make_store):
    store = make_store()
    message = {"msgtype": "text", "text": {"content": "x"}}
    for status, attempts, n in ((DeliveryStatus.SENT, 1, 3), (DeliveryStatus.FAILED, 2, 2), (DeliveryStatus.FAILED, 0, 1),
                                (DeliveryStatus.PENDING, 0, 4), (DeliveryStatus.HELD, 0, 2),
                                (DeliveryStatus.CANCELLED, 0, 5)):
        db.session.add_all(Notification(kind=NotificationKind.LEAD_ALERT, store_id=store.id, message=message, status=status, attempts=attempts)
                           for _ in range(n))
    db.session.commit()
    login(make_user(Role.OPERATOR))
    cards = re.findall(r'status=(\w+)">\s*<div class="big">(\d+)</div>', client.get("/notifications/").text)
    assert dict(cards) == {"pending": "4", "failed": "3", "unnotified": "1", "sent": "3", "held": "2", "cancelled": "5"}
