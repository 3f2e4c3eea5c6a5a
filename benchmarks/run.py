"""Benchmarks: measured, never asserted. `make bench` (or python benchmarks/run.py).

Each one measures its floor in the same run and prints ours / floor, so a noisy
machine cannot fake a gain (or a loss):

* order placement, 8 concurrent clients, against a raw psycopg transaction inserting
  an order row, an item row and a history row (benchmarks/orders_throughput.py);
* `GET /drinks` (the seeded 60-drink menu) in-process p50, as Lambda calls the app (and
  through chalice.test.Client), against the drinks' plain rows
  (the same columns, filters and order) fetched with psycopg and `json.dumps`
  (benchmarks/menu_read.py), plus the other menu routes;
* cold `import app`, against a one-route Chalice app importing chalice, psycopg and
  pydantic (benchmarks/cold_start.py);
* the Lambda package's zipped size and largest entries, and the picture handler's Pillow
  layer, when `make package STAGE=dev` has built them.

Prints the table and writes benchmarks/results/latest.json (git-ignored). Each part
is bounded (well under a minute on a 2-core machine).
"""

from __future__ import annotations

import json
import os
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import cold_start, menu_read, orders_throughput  # noqa: E402
from benchmarks.common import bench_database  # noqa: E402

PACKAGE = ROOT / ".local" / "package-dev" / "deployment.zip"
PICTURES_LAYER = PACKAGE.parent / "pictures-layer.zip"  # Pillow, the picture handler's alone (make package)


def package_size() -> dict[str, Any] | None:
    """The shared Lambda package (every function) and the picture handler's layer, zipped,
    with the package's largest top-level entries (what to look at when it grows)."""
    if not PACKAGE.exists():
        return None
    by_top: dict[str, int] = {}
    with zipfile.ZipFile(PACKAGE) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
        for info in archive.infolist():
            top = info.filename.split("/")[0]
            by_top[top] = by_top.get(top, 0) + info.compress_size
    largest = sorted(by_top.items(), key=lambda kv: -kv[1])[:8]
    return {
        "zipped_mb": PACKAGE.stat().st_size / 1e6,
        "unzipped_mb": unzipped / 1e6,
        "largest_zipped_mb": {name: round(size / 1e6, 2) for name, size in largest},
        "pictures_layer_zipped_mb": PICTURES_LAYER.stat().st_size / 1e6 if PICTURES_LAYER.exists() else None,
        "built": time.strftime("%Y-%m-%d %H:%M", time.gmtime(PACKAGE.stat().st_mtime)),
    }


def main() -> int:
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    cold = cold_start.measure()
    timings["cold_start_s"] = time.perf_counter() - started
    with bench_database() as url:
        started = time.perf_counter()
        menu = menu_read.measure(url)
        timings["menu_s"] = time.perf_counter() - started
        started = time.perf_counter()
        placement = orders_throughput.measure(url)
        timings["orders_s"] = time.perf_counter() - started
    package = package_size()
    results = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "orders": placement,
        "menu": menu,
        "cold_start": cold,
        "package": package,
        "seconds": timings,
    }

    drinks = menu["drinks_vs_raw"]
    trips = placement["round_trips"]
    print(f"\n{'what':44s} {'ours':>14s} {'floor':>14s} {'ratio':>7s}")
    print(
        f"{'order placement, ' + str(placement['clients']) + ' clients (orders/s)':44s}"
        f" {placement['ours_orders_per_s']:14.0f} {placement['raw_orders_per_s']:14.0f} {placement['ratio']:7.2f}"
    )
    lambda_style = menu["drinks_lambda_vs_raw"]
    # How the product runs: API Gateway's proxy event handed to the app object, as
    # Lambda does. chalice.test.Client adds its own work per request (it rebuilds the
    # event and copies os.environ), so it is shown too, not as the headline.
    print(
        f"{'GET /drinks (' + str(drinks['drinks']) + ' drinks), Lambda-style p50 ms':44s}"
        f" {lambda_style['ours_p50_ms']:14.2f} {lambda_style['raw_p50_ms']:14.2f} {lambda_style['ratio']:6.2f}x"
    )
    print(
        f"{'  via chalice.test.Client, p50 ms':44s}"
        f" {drinks['ours_p50_ms']:14.2f} {drinks['raw_p50_ms']:14.2f} {drinks['ratio']:6.2f}x"
    )
    print(
        f"{'cold import app, ms':44s} {cold['import_app_ms_p50']:14.0f} {cold['baseline_ms_p50']:14.0f}"
        f" {cold['ratio']:6.2f}x"
    )
    if package:
        print(f"{'Lambda package, MB zipped (' + package['built'] + ')':44s} {package['zipped_mb']:14.1f}")
        if package["pictures_layer_zipped_mb"] is not None:
            print(f"{'  + picture handler layer (Pillow), MB zipped':44s} {package['pictures_layer_zipped_mb']:14.1f}")
    retries = placement["retries_per_order"]
    print(
        f"\nplacement: {trips['new_order']} round trips per new order, {trips['idempotent_replay']} per replay;"
        f" retries per order {'n/a' if retries is None else f'{retries:.3f}'};"
        f" p50 {placement['ours_p50_ms']:.1f} ms, p95 {placement['ours_p95_ms']:.1f} ms;"
        f" failed {placement['failed']}"
    )
    for error in placement["errors"]:
        print(f"  error: {error}")
    print(f"\n{'menu route':62s} {'items':>5s} {'p50 ms':>7s} {'p95 ms':>7s} {'trips':>5s}")
    for row in menu["routes"]:
        print(
            f"{row['path']:62s} {row['items']:5d} {row['p50_ms']:7.2f} {row['p95_ms']:7.2f}"
            f" {row['db_round_trips']:5.1f}"
        )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nwrote {out / 'latest.json'} ({', '.join(f'{k} {v:.0f}' for k, v in timings.items())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
