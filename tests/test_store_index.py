"""The store index: exact geodesic choice, radius, ties, and freshness across processes."""
import math

import numpy as np
import pytest
from geographiclib.geodesic import Geodesic
from sqlalchemy import text
from sqlalchemy.orm import Session

from matrix.extensions import db
from matrix.leads.store_index import (BOUND_Q, StoreIndex, current_index, ecef, forget_index, geodesic_m,
                                      store_fingerprint)
from matrix.stores.models import Store, StoreStatus

WEST_LAKE = (120.13, 30.26)


def direct(lon, lat, azimuth, metres):
    g = Geodesic.WGS84.Direct(lat, lon, azimuth, metres)
    return g["lon2"], g["lat2"]


def karney(lon1, lat1, lon2, lat2) -> float:
    return Geodesic.WGS84.Inverse(lat1, lon1, lat2, lon2)["s12"]


def test_geodesic_agrees_with_karney_and_chord_bounds_hold():
    rng = np.random.default_rng(3)
    lons, lats = rng.uniform(73, 135, 400), rng.uniform(18, 53, 400)
    ends = [direct(lo, la, az, d) for lo, la, az, d in
            zip(lons, lats, rng.uniform(0, 360, 400), rng.uniform(0, 80_000, 400))]
    lon2, lat2 = np.array([e[0] for e in ends]), np.array([e[1] for e in ends])
    reference = np.array([karney(*p) for p in zip(lons, lats, lon2, lat2)])
    assert np.abs(geodesic_m(lons, lats, lon2, lat2) - reference).max() < 1e-3
    chord = np.linalg.norm(ecef(lons, lats) - ecef(lon2, lat2), axis=1)
    assert (chord <= reference + 1e-6).all()
    assert (reference <= chord * (1 + chord ** 2 * BOUND_Q) + 1e-4).all()
    assert geodesic_m(120.0, 30.0, 120.0, 30.0) == 0


def test_batch_matches_exhaustive_geodesic_search():
    rng = np.random.default_rng(11)
    n = 150
    lons, lats = WEST_LAKE[0] + rng.normal(0, 0.03, n), WEST_LAKE[1] + rng.normal(0, 0.03, n)
    lons[5], lats[5] = lons[4], lats[4]  # two stores at one point
    index = StoreIndex(np.arange(1, n + 1) * 7, lons, lats, rng.uniform(0.5, 3, n))
    leads_lon, leads_lat = WEST_LAKE[0] + rng.normal(0, 0.05, 400), WEST_LAKE[1] + rng.normal(0, 0.05, 400)
    chosen, dist = index.route_batch(leads_lon, leads_lat)
    for m in range(400):
        s = geodesic_m(leads_lon[m], leads_lat[m], index.lons, index.lats)
        covering = np.nonzero(s <= index.radius_m)[0]
        if covering.size == 0:
            assert chosen[m] == -1 and math.isnan(dist[m])
            continue
        best = covering[np.argmin(s[covering])]
        assert chosen[m] == index.ids[best]
        assert abs(dist[m] - karney(leads_lon[m], leads_lat[m], index.lons[best], index.lats[best])) < 1e-3
        hit = index.nearest_covering(leads_lon[m], leads_lat[m])
        assert hit.store_id == chosen[m]
    assert (chosen == -1).any() and (chosen != -1).any()


def test_radius_is_respected_to_the_centimetre():
    index = StoreIndex([1], [WEST_LAKE[0]], [WEST_LAKE[1]], [3.0])
    inside, outside = direct(*WEST_LAKE, 40, 2999.99), direct(*WEST_LAKE, 40, 3000.01)
    assert index.nearest_covering(*inside).store_id == 1
    assert index.nearest_covering(*outside) is None
    assert list(index.route_batch([inside[0], outside[0]], [inside[1], outside[1]])[0]) == [1, -1]


def test_a_nearer_store_with_a_small_radius_does_not_hide_a_covering_one():
    check_small_radius_stores_do_not_hide_a_covering_one()


def check_small_radius_stores_do_not_hide_a_covering_one():
    near = direct(*WEST_LAKE, 0, 500)
    far = direct(*WEST_LAKE, 180, 2000)
    # 20 stores right by the lead whose radius is too small, then one that covers it.
    ids = list(range(1, 21)) + [99]
    lons = [direct(*near, az, 10)[0] for az in range(0, 360, 18)] + [far[0]]
    lats = [direct(*near, az, 10)[1] for az in range(0, 360, 18)] + [far[1]]
    index = StoreIndex(ids, lons, lats, [0.1] * 20 + [5.0])
    hit = index.nearest_covering(*WEST_LAKE)
    assert hit.store_id == 99 and abs(hit.distance_m - 2000) < 1e-3
    assert index.route_batch([WEST_LAKE[0]], [WEST_LAKE[1]])[0][0] == 99


def test_ties_go_to_fewer_open_leads_then_lower_id():
    point = direct(*WEST_LAKE, 90, 800)
    index = StoreIndex([30, 20], [point[0]] * 2, [point[1]] * 2, [3.0, 3.0])
    assert [h.store_id for h in index.covering_ties(*WEST_LAKE)] == [20, 30]
    assert index.nearest_covering(*WEST_LAKE).store_id == 20
    assert index.nearest_covering(*WEST_LAKE, open_leads=lambda ids: {20: 4, 30: 1}).store_id == 30
    chosen, _ = index.route_batch([WEST_LAKE[0]], [WEST_LAKE[1]], open_leads=[4, 1])  # in id order: 20, 30
    assert chosen[0] == 30


def test_geodesic_beats_haversine_where_they_disagree():
    # At 30°N a north-south metre is "longer" on a sphere than an east-west one: haversine swaps these two.
    north, east = direct(*WEST_LAKE, 0, 3000.0), direct(*WEST_LAKE, 90, 3005.0)
    index = StoreIndex([1, 2], [north[0], east[0]], [north[1], east[1]], [5.0, 5.0])

    def haversine(lon, lat):
        p1, p2, dl = math.radians(WEST_LAKE[1]), math.radians(lat), math.radians(lon - WEST_LAKE[0])
        h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * 6371008.8 * math.asin(math.sqrt(h))

    assert haversine(*east) < haversine(*north)          # the sphere would pick store 2 ...
    hit = index.nearest_covering(*WEST_LAKE)
    assert hit.store_id == 1 and abs(hit.distance_m - 3000.0) < 1e-3   # ... the ellipsoid picks store 1
    assert index.route_batch([WEST_LAKE[0]], [WEST_LAKE[1]])[0][0] == 1


def test_empty_index_routes_nothing():
    index = StoreIndex([], [], [], [])
    assert index.nearest_covering(*WEST_LAKE) is None
    chosen, dist = index.route_batch([WEST_LAKE[0]], [WEST_LAKE[1]])
    assert chosen[0] == -1 and math.isnan(dist[0])


def test_index_holds_open_stores_with_a_point_only(make_store):
    kept = make_store(status=StoreStatus.OPEN)
    make_store(status=StoreStatus.CLOSED)
    make_store(status=StoreStatus.CLOSED_TEMPORARILY)
    make_store(status=StoreStatus.PLANNED)
    make_store(lon=None, lat=None)
    archived = make_store()
    archived.archived_at = archived.created_at
    db.session.commit()
    assert list(StoreIndex.from_db().ids) == [kept.id]


def _close_elsewhere(store_id: int) -> None:
    """Another process closes the store through the ORM: its own connection, its own commit."""
    db.session.commit()  # end this test's read transaction (SQLite would wait on it)
    with Session(db.engine) as other:
        other.get(Store, store_id).status = StoreStatus.CLOSED
        other.commit()


def test_a_change_in_another_process_is_seen_by_the_next_lookup(make_store):
    near = make_store(lon=WEST_LAKE[0], lat=WEST_LAKE[1])
    farther = make_store(lon=direct(*WEST_LAKE, 0, 1500)[0], lat=direct(*WEST_LAKE, 0, 1500)[1])
    assert current_index().nearest_covering(*WEST_LAKE).store_id == near.id
    _close_elsewhere(near.id)
    assert current_index().nearest_covering(*WEST_LAKE).store_id == farther.id


def test_a_raw_update_that_bumps_the_version_is_seen(make_store):
    near = make_store(lon=WEST_LAKE[0], lat=WEST_LAKE[1])
    before = current_index()
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE stores SET service_radius_km = 0.001, version = version + 1 WHERE id = :id"),
                     {"id": near.id})
    assert current_index() is not before
    assert current_index().nearest_covering(*direct(*WEST_LAKE, 0, 100)) is None


def test_the_check_waits_for_its_interval_then_sees_the_change(make_store):
    forget_index()
    near = make_store(lon=WEST_LAKE[0], lat=WEST_LAKE[1])
    cached = current_index(check_every_s=3600)
    assert current_index(check_every_s=3600) is cached       # no query within the interval
    fingerprint = store_fingerprint()
    _close_elsewhere(near.id)
    assert store_fingerprint() != fingerprint
    assert current_index(check_every_s=3600) is cached        # still within the interval: stale by design
    assert current_index(check_every_s=0).nearest_covering(*WEST_LAKE) is None


@pytest.mark.parametrize("k_start", [1, 2])
def test_small_first_neighbour_count_still_finds_far_covering_store(monkeypatch, k_start):
    import matrix.leads.store_index as module

    monkeypatch.setattr(module, "K_START", k_start)
    check_small_radius_stores_do_not_hide_a_covering_one()
