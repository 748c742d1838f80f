"""The sign-in throttle: back-off per user name and address, per address and per name; never a lock-out.

Kept in the database (LoginAttempt), so every web process sees the same counts. Each scope has
free failures in the window, then each further failure doubles the wait before the next try
(1 s, 2 s, 4 s ... up to a cap). A wrong password from one address slows that address, and only
slowly the name itself: an attacker cannot lock the admin out, and one address cannot try
name after name at speed.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from matrix.auth.models import LoginAttempt
from matrix.extensions import db

WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Scope:
    free: int      # failures in the window before any wait
    cap_s: int     # the longest wait


PAIR = Scope(free=3, cap_s=15 * 60)      # one name from one address: someone guessing
ADDRESS = Scope(free=20, cap_s=15 * 60)  # one address, any names (an office shares one address)
NAME = Scope(free=10, cap_s=60)          # one name from anywhere: short, so it cannot lock its owner out


def backoff_s(failures: int, scope: Scope) -> float:
    """The wait after `failures` failures: none while free, then 1 s doubling up to the cap."""
    if failures <= scope.free:
        return 0.0
    return float(min(scope.cap_s, 2 ** min(failures - scope.free - 1, 20)))


def wait_s(username: str, remote_addr: str, *, now: datetime) -> float:
    """Seconds before this name may try again from this address (0: now)."""
    failed = (LoginAttempt.succeeded.is_(False), LoginAttempt.at >= now - WINDOW)
    checks = ((PAIR, (LoginAttempt.username == username, LoginAttempt.remote_addr == remote_addr)),
              (ADDRESS, (LoginAttempt.remote_addr == remote_addr,)),
              (NAME, (LoginAttempt.username == username,)))
    longest = 0.0
    for scope, where in checks:
        failures, last = db.session.execute(
            select(func.count(), func.max(LoginAttempt.at)).where(*failed, *where)).one()
        delay = backoff_s(failures, scope)
        if delay and last is not None:
            longest = max(longest, delay - (now - _aware(last, now)).total_seconds())
    return max(longest, 0.0)


def _aware(moment: datetime, now: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def forget(*, username: str, remote_addr: str, now: datetime) -> None:
    """After a success: this name's failures from this address go, and failures older than a day.

    Successes stay: the users page shows each user's last sign-in.
    """
    db.session.execute(LoginAttempt.__table__.delete().where(
        LoginAttempt.username == username, LoginAttempt.remote_addr == remote_addr,
        LoginAttempt.succeeded.is_(False)))
    db.session.execute(LoginAttempt.__table__.delete().where(LoginAttempt.succeeded.is_(False),
                                                             LoginAttempt.at < now - timedelta(days=1)))
