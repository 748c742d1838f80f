"""The days and slots of a campaign's week, and when a slot begins in the chain's zone."""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from matrix.content.models import Campaign
from matrix.weeks import week_days


def campaign_days(campaign: Campaign, monday: date) -> list[date]:
    """The days of the week inside the campaign's date range."""
    return [d for d in week_days(monday) if campaign.starts_on <= d <= campaign.ends_on]


def slot_start(day: date, slot: str, zone: str) -> datetime:
    """When a slot ("18:00") of a day begins, in the chain's zone."""
    hour, minute = (int(part) for part in slot.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone))
