"""Nearest open store whose service radius covers a point, exact on the WGS-84 ellipsoid.

Stores sit in a KD-tree on earth-centred (ECEF) coordinates. The straight chord c between
two points is a lower bound of the geodesic s, and s <= c(1 + c²/(12·Rmin²)) (Rmin: the
ellipsoid's smallest radius of curvature, twice the cubic term of a curve's chord) — so chord
order equals geodesic order except in near-ties a fraction of a millimetre wide at store
distances. Candidates that the bounds cannot separate get the exact geodesic (Vincenty's inverse,
vectorised, agreeing with Karney's geographiclib to well under a millimetre at these distances).
"""
import threading
import time
from dataclasses import dataclass

import numpy as np
from flask import current_app
from scipy.spatial import cKDTree
from sqlalchemy import select

from matrix.extensions import db
from matrix.stores.chain_cache import store_fingerprint
from matrix.stores.models import Store, StoreStatus

A = 6378137.0                      # WGS-84 semi-major axis, m
F = 1 / 298.257223563              # flattening
B = A * (1 - F)
E2 = F * (2 - F)
R_MIN = A * (1 - E2)               # meridian radius of curvature at the equator, the smallest
BOUND_Q = 1 / (12 * R_MIN ** 2)    # s <= c·(1 + c²·BOUND_Q)
SLACK_M = 1e-4                     # float rounding of chords and geodesics, far below the tie width
TIE_M = 1e-3                       # stores this close to equally far are tied (e.g. two in one mall)
K_START = 8                        # neighbours asked first; doubled ×4 for the few leads that need more
# Only open stores receive leads: planned ones are not trading, closed ones must not get customers.
ROUTABLE_STATUSES = (StoreStatus.OPEN,)


@dataclass(frozen=True)
class Hit:
    store_id: int
    distance_m: float
    city_code: str | None = None
    district_code: str | None = None


def ecef(lons, lats) -> np.ndarray:
    """Earth-centred coordinates (m) of points on the ellipsoid surface, shape (n, 3)."""
    lam, phi = np.radians(np.asarray(lons, float)), np.radians(np.asarray(lats, float))
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    n = A / np.sqrt(1 - E2 * sin_phi ** 2)
    return np.column_stack((n * cos_phi * np.cos(lam), n * cos_phi * np.sin(lam), n * (1 - E2) * sin_phi))


def geodesic_m(lon1, lat1, lon2, lat2, *, iterations: int = 20) -> np.ndarray:
    """Geodesic distances (m) on WGS-84 by Vincenty's inverse, vectorised; for non-antipodal points."""
    lon1, lat1, lon2, lat2 = (np.asarray(v, float) for v in (lon1, lat1, lon2, lat2))
    big_l = np.radians(lon2 - lon1)
    u1, u2 = np.arctan((1 - F) * np.tan(np.radians(lat1))), np.arctan((1 - F) * np.tan(np.radians(lat2)))
    su1, cu1, su2, cu2 = np.sin(u1), np.cos(u1), np.sin(u2), np.cos(u2)
    lam = big_l
    for _ in range(iterations):
        sl, cl = np.sin(lam), np.cos(lam)
        sin_s = np.hypot(cu2 * sl, cu1 * su2 - su1 * cu2 * cl)
        cos_s = su1 * su2 + cu1 * cu2 * cl
        sigma = np.arctan2(sin_s, cos_s)
        safe = np.where(sin_s == 0, 1.0, sin_s)
        sin_a = cu1 * cu2 * sl / safe
        cos2_a = 1 - sin_a ** 2
        cos_2sm = np.where(cos2_a == 0, 0.0, cos_s - 2 * su1 * su2 / np.where(cos2_a == 0, 1.0, cos2_a))
        c = F / 16 * cos2_a * (4 + F * (4 - 3 * cos2_a))
        previous = lam
        lam = big_l + (1 - c) * F * sin_a * (sigma + c * sin_s * (cos_2sm + c * cos_s * (2 * cos_2sm ** 2 - 1)))
        if np.all(np.abs(lam - previous) < 1e-13):
            break
    u_sq = cos2_a * (A ** 2 - B ** 2) / B ** 2
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    d_sigma = big_b * sin_s * (cos_2sm + big_b / 4 * (cos_s * (2 * cos_2sm ** 2 - 1) - big_b / 6 * cos_2sm
                                                      * (4 * sin_s ** 2 - 3) * (4 * cos_2sm ** 2 - 3)))
    return np.where(sin_s == 0, 0.0, B * big_a * (sigma - d_sigma))


class StoreIndex:
    """Open stores with a point, in id order, searchable by geodesic distance."""

    def __init__(self, ids, lons, lats, radius_km, city_codes=None, district_codes=None):
        order = np.argsort(np.asarray(ids, np.int64), kind="stable")
        self.ids = np.asarray(ids, np.int64)[order]
        self.lons, self.lats = np.asarray(lons, float)[order], np.asarray(lats, float)[order]
        self.radius_m = np.asarray(radius_km, float)[order] * 1000.0
        self.city_codes = [city_codes[i] for i in order] if city_codes is not None else [None] * len(order)
        self.district_codes = [district_codes[i] for i in order] if district_codes is not None else [None] * len(order)
        self.size = len(self.ids)
        self.max_radius_m = float(self.radius_m.max()) if self.size else 0.0
        self.tree = cKDTree(ecef(self.lons, self.lats)) if self.size else None
        self.position = {int(store_id): n for n, store_id in enumerate(self.ids)}

    @classmethod
    def from_db(cls) -> "StoreIndex":
        """Every open, not archived store that has coordinates."""
        rows = db.session.execute(
            select(Store.id, Store.lon, Store.lat, Store.service_radius_km, Store.city_code, Store.district_code)
            .where(Store.status.in_(ROUTABLE_STATUSES), Store.archived_at.is_(None),
                   Store.lon.is_not(None), Store.lat.is_not(None))).all()
        columns = list(zip(*rows)) if rows else [[]] * 6
        return cls(columns[0], columns[1], columns[2], [r or 0.0 for r in columns[3]], list(columns[4]),
                   list(columns[5]))

    def covering_ties(self, lon: float, lat: float) -> list[Hit]:
        """The covering stores nearest to the point, equally far within TIE_M (usually one, or none)."""
        if not self.size:
            return []
        xyz, lons, lats = ecef([lon], [lat]), np.array([lon], float), np.array([lat], float)
        k = min(K_START, self.size)
        while True:
            d, i = self._query(xyz, k)
            complete, s, ii = self._settle(d, i, lons, lats, final=k == self.size)
            if complete[0]:
                break
            k = min(k * 4, self.size)
        best = s[0].min()
        if not np.isfinite(best):
            return []
        tied = np.nonzero(s[0] <= best + TIE_M)[0]
        return sorted((self._hit(ii[0, c], s[0, c]) for c in tied), key=lambda h: (h.distance_m, h.store_id))

    def nearest_covering(self, lon: float, lat: float, open_leads=None) -> Hit | None:
        """The nearest store whose radius covers the point; a tie goes to fewer open leads, then the lower id.

        `open_leads(store_ids) -> {store_id: count}` is asked only when there is a tie.
        """
        ties = self.covering_ties(lon, lat)
        if len(ties) > 1 and open_leads is not None:
            counts = open_leads([h.store_id for h in ties])
            return min(ties, key=lambda h: (counts.get(h.store_id, 0), h.store_id))
        return ties[0] if ties else None

    def route_batch(self, lons, lats, open_leads=None) -> tuple[np.ndarray, np.ndarray]:
        """(store ids, distances in m) for many points; -1 and NaN where no store covers the point.

        `open_leads`: optional counts aligned with `self.ids`, used only to break ties.
        """
        lons, lats = np.asarray(lons, float), np.asarray(lats, float)
        chosen, dist = np.full(len(lons), -1, np.int64), np.full(len(lons), np.nan)
        if not self.size or not len(lons):
            return chosen, dist
        load = np.zeros(self.size, np.int64) if open_leads is None else np.asarray(open_leads, np.int64)
        xyz, pending, k = ecef(lons, lats), np.arange(len(lons)), min(K_START, self.size)
        while pending.size:
            d, i = self._query(xyz[pending], k)
            complete, s, ii = self._settle(d, i, lons[pending], lats[pending], final=k == self.size)
            best = s.min(axis=1)
            tied = s <= (best + TIE_M)[:, None]
            key = np.where(tied, load[ii] * self.size + ii, np.iinfo(np.int64).max)
            pick = ii[np.arange(len(ii)), key.argmin(axis=1)]
            found = complete & np.isfinite(best)
            chosen[pending[found]] = self.ids[pick[found]]
            dist[pending[found]] = best[found]
            pending, k = pending[~complete], min(k * 4, self.size)
        return chosen, dist

    def _query(self, xyz: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        d, i = self.tree.query(xyz, k=k, workers=-1)
        return (d[:, None], i[:, None]) if k == 1 else (d, i)

    def _settle(self, d, i, lons, lats, *, final: bool):
        """For k chord-nearest stores per point: which points are decided, and exact distances of covering ones.

        Returns (complete per row, s with the geodesic where the store covers the point else inf, store
        positions). A row is complete when no store beyond its k-th could cover the point closer.
        """
        valid = i < self.size
        ii = np.where(valid, i, 0)
        radius = np.where(valid, self.radius_m[ii], -1.0)
        possible = d <= radius                               # the chord never exceeds the geodesic
        upper = d * (1 + d * d * BOUND_Q) + SLACK_M
        sure_best = np.where(possible & (upper <= radius), upper, np.inf).min(axis=1)
        reach = sure_best + TIE_M
        complete = np.full(len(d), True) if final else d[:, -1] > np.minimum(reach, self.max_radius_m)
        rows, cols = np.nonzero(possible & (d <= reach[:, None]) & complete[:, None])
        s = np.full(d.shape, np.inf)
        if rows.size:
            at = ii[rows, cols]
            exact = geodesic_m(lons[rows], lats[rows], self.lons[at], self.lats[at])
            s[rows, cols] = np.where(exact <= radius[rows, cols], exact, np.inf)
        return complete, s, ii

    def _hit(self, position: int, distance: float) -> Hit:
        return Hit(int(self.ids[position]), float(distance), self.city_codes[position], self.district_codes[position])


# One index per database per process; rebuilt when the stores' fingerprint moves in any process.
_cache: dict[str, tuple[StoreIndex, tuple, float]] = {}
_lock = threading.Lock()


def current_index(*, check_every_s: float | None = None) -> StoreIndex:
    """This process's store index, checked against the database at most every ROUTING_INDEX_CHECK_S seconds."""
    if check_every_s is None:
        check_every_s = float(current_app.config.get("ROUTING_INDEX_CHECK_S", 1.0))
    key = str(db.engine.url)
    cached = _cache.get(key)
    now = time.monotonic()
    if cached and now - cached[2] < check_every_s:
        return cached[0]
    fingerprint = store_fingerprint()
    with _lock:
        cached = _cache.get(key)
        if cached and cached[1] == fingerprint:
            _cache[key] = (cached[0], fingerprint, now)
            return cached[0]
        index = StoreIndex.from_db()
        _cache[key] = (index, fingerprint, now)
        return index


def forget_index() -> None:
    """Drop the cached indexes (tests, or after a bulk change made with raw SQL)."""
    _cache.clear()
