"""Login answer time by outcome, side by side: a disabled account and an unknown name against a
wrong password (the baseline). Constant-time means ratios near 1.0.

    .venv/bin/python -m benchmarks.dashboard.login_timing [--rounds 30]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from watchwall.config.database import make_engine, upgrade
from watchwall.dashboard.accounts import add_user, authenticate, set_active

PASSWORD = "correct horse battery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        add_user(engine, "active", PASSWORD, "city_command", [], set())
        add_user(engine, "disabled", PASSWORD, "city_command", [], set())
        set_active(engine, "disabled", False)
        cases = {
            "wrong password (baseline)": ("active", "wrong password!"),
            "disabled account, right password": ("disabled", PASSWORD),
            "unknown user": ("nobody-here", PASSWORD),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):  # interleaved: the machine's load weighs on every case alike
            for name, (user, password) in cases.items():
                started = time.perf_counter()
                authenticate(engine, user, password)
                times[name].append(time.perf_counter() - started)
        engine.dispose()
    baseline = statistics.median(times["wrong password (baseline)"])
    print(f"{args.rounds} rounds, median ms and ratio to a wrong password")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"  {name:34s} {median * 1000:7.1f} ms  {median / baseline:5.2f}x")


if __name__ == "__main__":
    main()
