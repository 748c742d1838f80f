"""Same-city spacing: which template variant each store posts in which day and slot.

Stores near each other (one city, or within `spacing_km` when it is above 0) must not post
the same template in the same day and slot, or the local feed fills with identical posts.
Variants rotate by the store's index among its already placed neighbours; when a city has
more stores than variants, the slot shifts too. Everything is deterministic (stores in id
order), so regenerating the same week gives the same plan.
"""
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

# Degrees per km; longitude cells are sized for 55°N, so 3×3 cells cover `spacing_km` anywhere in China.
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON_55N = 111.32 * math.cos(math.radians(55))


@dataclass(frozen=True)
class Site:
    id: int
    city_code: str
    lon: float | None
    lat: float | None


class Slotted(NamedTuple):
    """One planned item of a store: item n of every account of that store."""

    template_id: int
    day: int    # index into the campaign's days of the week
    slot: int   # index into the campaign's slots


@dataclass
class Placement:
    plans: dict[int, list[Slotted]] = field(default_factory=dict)   # store id -> item n -> position
    conflicts: dict[str, int] = field(default_factory=dict)         # city code -> items sharing a slot


def km_between(a: Site, b: Site) -> float:
    """Equirectangular distance: exact enough at the few kilometres spacing is about."""
    mean_lat = math.radians((a.lat + b.lat) / 2)
    dx = (a.lon - b.lon) * 111.32 * math.cos(mean_lat)
    dy = (a.lat - b.lat) * KM_PER_DEG_LAT
    return math.hypot(dx, dy)


class _Neighbourhood:
    """How often each (template, day, slot) is used by the stores already placed near a store."""

    def __init__(self, spacing_km: float):
        self.spacing_km = spacing_km
        self.by_city: dict[str, Counter] = defaultdict(Counter)      # spacing 0: one tally per city
        self.count: dict[str, int] = defaultdict(int)
        self.cells: dict[tuple[int, int], list[tuple[Site, set]]] = defaultdict(list)
        self.city_sites: dict[str, list[tuple[Site, set]]] = defaultdict(list)
        self.pointless: dict[str, list[tuple[Site, set]]] = defaultdict(list)

    def _cell(self, site: Site) -> tuple[int, int]:
        return (math.floor(site.lon * KM_PER_DEG_LON_55N / self.spacing_km),
                math.floor(site.lat * KM_PER_DEG_LAT / self.spacing_km))

    def around(self, site: Site) -> tuple[Counter, int]:
        """The tally of the placed neighbours of `site` (its city, or within spacing_km), and their number."""
        if self.spacing_km <= 0:
            return self.by_city[site.city_code], self.count[site.city_code]
        if site.lon is None or site.lat is None:  # no point: every store of its city counts as near
            near = [occ for _s, occ in self.city_sites[site.city_code]]
        else:
            x, y = self._cell(site)
            near = [occ for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                    for other, occ in self.cells.get((x + dx, y + dy), ())
                    if km_between(site, other) <= self.spacing_km]
            near += [occ for _s, occ in self.pointless[site.city_code]]
        tally = Counter()
        for occ in near:
            tally.update(occ)
        return tally, len(near)

    def add(self, site: Site, taken: set) -> None:
        self.count[site.city_code] += 1
        if self.spacing_km <= 0:
            self.by_city[site.city_code].update(taken)
            return
        self.city_sites[site.city_code].append((site, taken))
        if site.lon is None or site.lat is None:
            self.pointless[site.city_code].append((site, taken))
        else:
            self.cells[self._cell(site)].append((site, taken))


def place(sites: list[Site], sequence: list[tuple[str, int]], day_of: list[int], variants: dict[str, list[int]],
          n_slots: int, spacing_km: float) -> Placement:
    """Positions for item n of each store; `sequence[n]` is (kind, index within the kind)."""
    result, hood = Placement(), _Neighbourhood(spacing_km)
    for site in sorted(sites, key=lambda s: s.id):
        tally, rank = hood.around(site)
        plan, taken, used = [], set(), defaultdict(set)
        for n, (kind, index) in enumerate(sequence):
            options = variants[kind]
            day = day_of[n]
            base_slot = (rank // len(options) + len(used[day])) % n_slots
            spot, clash = _choose(options, (rank + index) % len(options), day, base_slot, n_slots, tally, used[day])
            if clash:
                result.conflicts[site.city_code] = result.conflicts.get(site.city_code, 0) + 1
            used[day].add(spot.slot)
            taken.add(spot)
            plan.append(spot)
        result.plans[site.id] = plan
        hood.add(site, taken)
    return result


def _choose(options: list[int], preferred: int, day: int, base_slot: int, n_slots: int,
            tally: Counter, used_slots: set) -> tuple[Slotted, bool]:
    """The first free (slot, variant), slots the store has not used that day first; else the least used."""
    slots = [(base_slot + k) % n_slots for k in range(n_slots)]
    if used_slots:
        slots = [s for s in slots if s not in used_slots] + [s for s in slots if s in used_slots]
    order = options[preferred:] + options[:preferred]
    best, best_uses = None, None
    for slot in slots:
        for template_id in order:
            uses = tally.get((template_id, day, slot), 0)
            if uses == 0:
                return Slotted(template_id, day, slot), False
            if best_uses is None or uses < best_uses:
                best, best_uses = (template_id, slot), uses
    return Slotted(best[0], day, best[1]), True
