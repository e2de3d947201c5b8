"""What a role builds while it starts lives as long as the process: the cyclic garbage collector
is told so, and stops walking it again at every full collection.

An ingest node's start-up leaves a few hundred thousand tracked objects (modules, SQLAlchemy's
mapped classes and engine, the site, the media plane), none of which becomes garbage. The
packets that wait in the recorders' queues for up to a second outlive the young generations, so
full collections come often, and each walked all of those objects. ``gc.freeze()`` moves them
to the permanent generation, which collections skip (Python's ``gc`` docs). Measured with
``benchmarks/cluster/node_resources.py --cameras 50 --side-by-side``: the RTSP loop's thread
0-6 % less CPU (rounds: 3.1, 3.0, 5.8, 0.0 %), the node 0.93-1.01 x (benchmarks/README.md, "Write-behind and a frozen heap").

The price: a cycle of start-up objects dropped later (a site reload) is never collected; that is
once, and bounded by the start-up's size.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    gc.collect()  # start-up's own garbage goes now rather than staying frozen
    gc.freeze()
