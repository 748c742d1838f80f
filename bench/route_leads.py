"""Benchmark: route 100,000 leads against 10,000 stores clustered in 20 big Chinese cities.

Run: .venv/bin/python bench/route_leads.py [--stores 10000] [--leads 100000] [--seed 7]
Standalone: no database. Stores sit a few km around the district centres of the shipped region
data (radius 3-5 km, 1% share a point with another store, as two shops in one mall); leads sit
around stores, a few percent far outside every radius. The index's answer is checked against an
exhaustive search over ALL stores for every lead (a spherical pre-filter with a proven 1% bound,
then the exact geodesic for every store the bound cannot rule out), and recorded distances against
Karney's geographiclib. Ends with one line per figure: `name value unit`.
"""
import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geographiclib.geodesic import Geodesic  # noqa: E402

from matrix.geo import gcj02_to_wgs84  # noqa: E402
from matrix.leads.store_index import TIE_M, StoreIndex, geodesic_m  # noqa: E402

CITIES = ("110100", "310100", "440100", "440300", "330100", "320100", "510100", "500100", "420100", "610100",
          "120100", "320500", "430100", "410100", "370200", "210100", "330200", "350200", "340100", "370100")
DATA = Path(__file__).resolve().parent.parent / "matrix" / "data" / "cn_regions.csv"
R_SPHERE = 6371008.8
SPHERE_BOUND = 1.01   # a sphere's distance is within 0.6% of the ellipsoid's geodesic; 1% to be safe
SPHERE_SLACK_M = 2.0  # acos near 1 loses ~0.1 m


def district_centres() -> list[tuple[str, str, float, float]]:
    """(city, district, lon, lat) in WGS-84 for every district of the benchmark cities."""
    out = []
    with DATA.open(encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            if rec["level"] == "district" and rec["parent_code"] in CITIES and rec["lon_gcj02"]:
                lon, lat = gcj02_to_wgs84(float(rec["lon_gcj02"]), float(rec["lat_gcj02"]))
                out.append((rec["parent_code"], rec["code"], lon, lat))
    return out


def offset(lons, lats, east_m, north_m):
    """Points moved by metres east/north (small offsets; the exact shape does not matter here)."""
    lat2 = lats + np.degrees(north_m / 6371000.0)
    return lons + np.degrees(east_m / (6371000.0 * np.cos(np.radians(lats)))), lat2


def make_stores(n: int, rng) -> StoreIndex:
    centres = district_centres()
    pick = rng.integers(0, len(centres), n)
    lons = np.array([centres[p][2] for p in pick])
    lats = np.array([centres[p][3] for p in pick])
    lons, lats = offset(lons, lats, rng.normal(0, 2500, n), rng.normal(0, 2500, n))
    twins = rng.choice(n, n // 100, replace=False)           # a second store at the same point
    lons[twins[1:]], lats[twins[1:]] = lons[twins[:-1]], lats[twins[:-1]]
    radius_km = rng.uniform(3.0, 5.0, n)
    ids = rng.permutation(np.arange(1, n + 1))
    return StoreIndex(ids, lons, lats, radius_km, [centres[p][0] for p in pick], [centres[p][1] for p in pick])


def make_leads(index: StoreIndex, n: int, rng):
    base = rng.integers(0, index.size, n)
    far = rng.random(n) < 0.04                               # outside every radius, mostly
    spread = np.where(far, rng.uniform(8000, 40000, n), rng.uniform(0, 4000, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    return offset(index.lons[base], index.lats[base], spread * np.cos(angle), spread * np.sin(angle))


def unit_vectors(lons, lats) -> np.ndarray:
    lam, phi = np.radians(lons), np.radians(lats)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


def exhaustive(index: StoreIndex, lons, lats, chunk: int = 1000):
    """Nearest covering store by geodesic over every store; ties to the lower id. Also haversine's pick."""
    stores_u = unit_vectors(index.lons, index.lats)
    cos_possible = np.cos(SPHERE_BOUND * (index.radius_m + SPHERE_SLACK_M) / R_SPHERE)
    cos_sphere_cover = np.cos(index.radius_m / R_SPHERE)
    chosen, dist = np.full(len(lons), -1, np.int64), np.full(len(lons), np.nan)
    haversine = np.full(len(lons), -1, np.int64)
    for start in range(0, len(lons), chunk):
        stop = min(start + chunk, len(lons))
        dot = unit_vectors(lons[start:stop], lats[start:stop]) @ stores_u.T
        on_sphere = np.where(dot >= cos_sphere_cover, dot, -2.0)
        best_sphere = on_sphere.argmax(axis=1)
        haversine[start:stop] = np.where(on_sphere.max(axis=1) > -2.0, index.ids[best_sphere], -1)
        rows, cols = np.nonzero(dot >= cos_possible)
        x = R_SPHERE * np.arccos(np.clip(dot[rows, cols], -1.0, 1.0))
        upper = np.where(SPHERE_BOUND * x + SPHERE_SLACK_M <= index.radius_m[cols], SPHERE_BOUND * x + SPHERE_SLACK_M, np.inf)
        best_upper = np.full(stop - start, np.inf)
        np.minimum.at(best_upper, rows, upper)
        keep = x / SPHERE_BOUND - SPHERE_SLACK_M <= best_upper[rows] + TIE_M
        rows, cols = rows[keep], cols[keep]
        s = geodesic_m(lons[start + rows], lats[start + rows], index.lons[cols], index.lats[cols])
        covers = s <= index.radius_m[cols]
        rows, cols, s = rows[covers], cols[covers], s[covers]
        best = np.full(stop - start, np.inf)
        np.minimum.at(best, rows, s)
        tied = s <= best[rows] + TIE_M
        first = np.full(stop - start, index.size)
        np.minimum.at(first, rows[tied], cols[tied])          # positions are in id order
        found = np.isfinite(best)
        chosen[start:stop][found] = index.ids[first[found]]
        dist[start:stop][found] = best[found]
    return chosen, dist, haversine


def karney_error(index: StoreIndex, lons, lats, chosen, dist) -> float:
    """Largest difference between recorded distances and geographiclib's geodesic."""
    worst = 0.0
    for n in np.nonzero(chosen >= 0)[0]:
        p = index.position[int(chosen[n])]
        s12 = Geodesic.WGS84.Inverse(lats[n], lons[n], index.lats[p], index.lons[p], Geodesic.DISTANCE)["s12"]
        worst = max(worst, abs(s12 - dist[n]))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    started = time.perf_counter()
    index = make_stores(args.stores, rng)
    lons, lats = make_leads(index, args.leads, rng)
    print(f"# index of {index.size} stores built in {time.perf_counter() - started:.2f} s")

    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        chosen, dist = index.route_batch(lons, lats)
        timings.append(time.perf_counter() - started)
    batch_s = min(timings)

    singles = []
    for n in rng.choice(args.leads, 2000, replace=False):
        started = time.perf_counter()
        index.nearest_covering(float(lons[n]), float(lats[n]))
        singles.append(time.perf_counter() - started)

    started = time.perf_counter()
    truth, truth_dist, haversine = exhaustive(index, lons, lats)
    print(f"# exhaustive check over all stores took {time.perf_counter() - started:.1f} s")
    mismatches = int(np.count_nonzero(truth != chosen))
    print(f"# routed {np.count_nonzero(chosen >= 0)} of {args.leads} leads; "
          f"{np.count_nonzero(chosen < 0)} outside every radius")
    print(f"# nearest-by-haversine differs from geodesic on {np.count_nonzero(haversine != truth)} leads")
    print(f"# largest difference from the exhaustive distances: {np.nanmax(np.abs(truth_dist - dist)):.2e} m")
    error = karney_error(index, lons, lats, chosen, dist)

    print(f"leads_per_s {args.leads / batch_s:.0f} leads/s")
    print(f"single_lead_ms {statistics.median(singles) * 1000:.3f} ms")
    print(f"geodesic_mismatches {mismatches} count")
    print(f"max_distance_error_m {error:.2e} m")


if __name__ == "__main__":
    main()
