"""Cold start: `import app` in a fresh interpreter, against a one-route baseline app.

The baseline is the least a Chalice API on this stack can import: chalice, psycopg and
pydantic's BaseModel, one route, no models. Both are imported in fresh interpreters,
alternately (so a noisy neighbour slows both alike), after one warm-up each that writes
the bytecode cache (a deployed package is warm on disk the same way). The time is
measured inside the interpreter around the import alone; the ratio ours / baseline is
what counts.

    .venv/bin/python benchmarks/cold_start.py        # BENCH_COLD_RUNS (default 15)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

BASELINE_APP = '''from chalice import Chalice
import psycopg
from pydantic import BaseModel  # noqa: F401 (what an app validating with pydantic imports)

app = Chalice(app_name="baseline")


@app.route("/")
def index():
    return {"hello": "world"}
'''

PROBE = "import time; t = time.perf_counter(); import app; print((time.perf_counter() - t) * 1000)"


def _import_ms(directory: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env["PYTHONPATH"] = str(directory)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=directory, env=env, check=True, capture_output=True, text=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def measure(runs: int | None = None) -> dict[str, Any]:
    runs = runs or int(os.environ.get("BENCH_COLD_RUNS", "15"))
    with tempfile.TemporaryDirectory() as tmp:
        baseline_dir = Path(tmp)
        (baseline_dir / "app.py").write_text(BASELINE_APP)
        _import_ms(baseline_dir), _import_ms(ROOT)  # warm the bytecode caches
        ours, floor = [], []
        for _ in range(runs):
            floor.append(_import_ms(baseline_dir))
            ours.append(_import_ms(ROOT))
    return {
        "runs": runs,
        "import_app_ms_p50": statistics.median(ours),
        "baseline_ms_p50": statistics.median(floor),
        "ratio": statistics.median(ours) / statistics.median(floor),
    }


def main() -> int:
    result = measure()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
