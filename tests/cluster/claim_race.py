"""One OS process of the claim race: register a node, wait for the start file, claim every camera.

``python -m tests.cluster.claim_race URL NAME START_FILE OUT_FILE CAMERA_COUNT`` writes the
epochs it won as JSON ``{camera_id: epoch}``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from watchwall.cluster.leases import LeaseEngine, lease_database


def main(url: str, name: str, start_file: str, out_file: str, count: int) -> int:
    engine = LeaseEngine(
        lease_database(url), name, address="127.0.0.1:1", max_cameras=count, ttl_s=60, renew_interval_s=5
    )
    engine.register()
    Path(out_file + ".ready").write_text("ready")
    deadline = time.monotonic() + 60
    while not Path(start_file).exists():  # bounded spin: both processes start claiming together
        if time.monotonic() > deadline:
            return 2
    won = {}
    for index in range(count):
        camera_id = f"race{index:03d}"
        epoch = engine.claim(camera_id)
        if epoch is not None:
            won[camera_id] = epoch
    Path(out_file).write_text(json.dumps(won))
    engine.engine.dispose()
    return 0


if __name__ == "__main__":
    url, name, start_file, out_file, count = sys.argv[1:6]
    sys.exit(main(url, name, start_file, out_file, int(count)))
