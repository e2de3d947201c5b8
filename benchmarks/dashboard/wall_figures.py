"""The wall's four charts built by the figure functions, against the same functions before the
issue-14 changes (viewport-sized text, localised ticks, target colours), side by side.

    .venv/bin/python benchmarks/dashboard/wall_figures.py [--repeat 300] [--baseline-ref 33c5496]

The baseline is ``dashboard/figures.py`` as it was at ``--baseline-ref`` (read with ``git show``
and loaded as its own module); both build the same inputs (30 days, 12 months x 4 case types,
7 counties), alternating call by call so that both meet the same load of the shared machine.
Prints the median and p95 per build of the four charts and the ratio new / baseline.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from watchwall.dashboard import figures

ROOT = Path(__file__).resolve().parents[2]
COUNTIES = {code: f"{code}县" for code in ("a", "b", "c", "d", "e", "f", "g")}


def baseline_module(ref: str):
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:dashboard/figures.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    folder = Path(tempfile.mkdtemp())
    path = folder / "figures_baseline.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("figures_baseline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def inputs() -> dict:
    today = date(2026, 12, 5)
    return {
        "rates": {code: 0.9 + index * 0.015 for index, code in enumerate(COUNTIES)},
        "days": {today - timedelta(days=offset): 0.95 + (offset % 5) / 100 for offset in range(30)},
        "months": {
            kind: {f"{2026 if m <= 12 else 2027}-{(m - 1) % 12 + 1:02d}": m * 3 for m in range(1, 13)}
            for kind in ("pretrial_evaluation", "correction_reception", "rewards", "committal")
        },
        "bases": {code: {"education": 2, "employment": 3, "public_welfare": 4} for code in COUNTIES},
        "staff": {code: {"full_time": 5, "certified_officers": 30} for code in COUNTIES},
    }


def build(module, data: dict, scale: float | None) -> None:
    extra = () if scale is None else (scale,)
    module.compliance_by_county(data["rates"], COUNTIES, "zh-CN", *extra)
    module.compliance_by_day(data["days"], "zh-CN", *extra)
    module.cases_by_month_and_type(data["months"], "zh-CN", *extra)
    module.resources_by_county(data["bases"], data["staff"], COUNTIES, "zh-CN", *extra)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--baseline-ref", default="33c5496")
    args = parser.parse_args()
    baseline, data = baseline_module(args.baseline_ref), inputs()
    times = {"baseline": [], "new (4K, scale 2)": []}
    for _ in range(5):  # warm-up
        build(baseline, data, None)
        build(figures, data, 2.0)
    for _ in range(args.repeat):
        for name, module, scale in (("baseline", baseline, None), ("new (4K, scale 2)", figures, 2.0)):
            start = time.perf_counter()
            build(module, data, scale)
            times[name].append((time.perf_counter() - start) * 1000)
    medians = {}
    print("| build of the wall's four charts | median ms | p95 ms |")
    print("|---|---|---|")
    for name, values in times.items():
        values.sort()
        medians[name] = statistics.median(values)
        print(f"| {name} | {medians[name]:.2f} | {values[int(len(values) * 0.95) - 1]:.2f} |")
    print(f"\nratio new / baseline (median): {medians['new (4K, scale 2)'] / medians['baseline']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
