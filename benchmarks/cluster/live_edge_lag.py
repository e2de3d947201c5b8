"""Live-edge lag: from a picture's capture time to the moment Chromium shows it, direct and through the relay.

Method (measured, not estimated; one machine, one clock):

- The camera is a GStreamer RTSP server on 127.0.0.1 (tests/support/gst_rtsp_server.py, mount kind
  ``timecode``) whose pictures are made in real time by Python: each gets ``time.time()`` of its
  making, in ms since the epoch, painted into it as 64 black/white blocks of 16x16 px (an 8-bit
  marker, the 48-bit time, an 8-bit checksum: tests/support/time_code.py, whose reading back after
  x264 and PyAV is tested in tests/support/test_time_code.py). x264 tune=zerolatency, baseline,
  1500 kbit/s, a keyframe every second, 640x360 at 25 fps (``--fps``).
- Two paths watch it at once, each in its own Chromium page (Debian's /usr/bin/chromium through
  Playwright, as the suite's browser tests), on the county page's live view (#centre-live, the
  product's assets/live-player.js):
  direct: ``watchwall serve`` (one process: it pulls the camera and serves the page and /live);
  relay: ``watchwall node`` pulls it, ``watchwall web`` (gunicorn) relays it (PostgreSQL, Redis).
- An init script hooks ``video.requestVideoFrameCallback`` on the live video: for each presented
  frame it draws the picture at its own size into a canvas, takes the mean level of the centre of
  each block, and notes when the frame is shown: ``metadata.expectedDisplayTime`` mapped to the
  epoch with ``Date.now() - performance.now()`` read in the same callback. Python decodes the
  levels (the tested decoder) and takes lag = shown - painted. Frames whose code does not decode
  are counted, not used. It also notes how far the buffered data reach past the shown frame.
- A plain RTSP decoder (PyAV, in this process) reads the camera beside them: the lag of the camera,
  its encoder and RTSP alone, the floor under both paths.

Report: p50 / p95 / max of each path over ``--seconds`` of frames after ``--warmup``, the relay's
added lag (p50 relay - p50 direct), frames decoded and rejected, and the load average.

    .venv/bin/python benchmarks/cluster/live_edge_lag.py --seconds 40
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # noqa: E402

import av  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.dashboard.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    ServedWatchWall,
    add_users,
    free_port,
    login_as,
    wait_http,
    watchwall_env,
)
from tests.support import time_code  # noqa: E402
from tests.support.cluster import NodeProcess, cluster_site, cluster_status, node_env, wait_for  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.rtsp_process import RtspServerProcess  # noqa: E402
from watchwall.config.database import make_engine  # noqa: E402
from watchwall.dashboard.accounts import add_user  # noqa: E402

CAMERA, COUNTY = "qz0", "qinzhou"
WIDTH, HEIGHT = 640, 360

# Installed before the page's scripts: hooks the live video once it is there, for each frame shown.
FRAME_READER = """(() => {
  const code = __CODE__;
  window.__frames = []; window.__hooked = false;
  const canvas = document.createElement('canvas');
  canvas.width = code.x + code.columns * code.block; canvas.height = code.y + code.rows * code.block;
  const drawing = canvas.getContext('2d', { willReadFrequently: true });
  function onFrame(video) {
    return function (now, metadata) {
      const offset = Date.now() - performance.now();
      drawing.drawImage(video, 0, 0, video.videoWidth, video.videoHeight);
      const pixels = drawing.getImageData(0, 0, canvas.width, canvas.height).data;
      const levels = [], margin = (code.block - code.sample) / 2;
      for (let index = 0; index < code.columns * code.rows; index++) {
        const left = code.x + (index % code.columns) * code.block + margin;
        const top = code.y + Math.floor(index / code.columns) * code.block + margin;
        let total = 0;
        for (let y = top; y < top + code.sample; y++)
          for (let x = left; x < left + code.sample; x++) total += pixels[(y * canvas.width + x) * 4];
        levels.push(Math.round(total / (code.sample * code.sample)));
      }
      const ranges = video.buffered;
      const ahead = ranges.length ? ranges.end(ranges.length - 1) - metadata.mediaTime : null;
      window.__frames.push({ levels: levels, shown: metadata.expectedDisplayTime + offset, ahead: ahead, rate: video.playbackRate });
      if (window.__frames.length > 5000) window.__frames.splice(0, 1000);
      video.requestVideoFrameCallback(onFrame(video));
    };
  }
  const timer = setInterval(() => {
    const video = document.getElementById('centre-live');
    if (!video || !video.requestVideoFrameCallback || window.__hooked) return;
    window.__hooked = true;
    window.__stalls = 0;
    video.addEventListener('waiting', () => { window.__stalls += 1; });
    video.requestVideoFrameCallback(onFrame(video));
  }, 100);
  setTimeout(() => clearInterval(timer), 120000);
})();""".replace(
    "__CODE__",
    json.dumps(
        {
            "x": time_code.ORIGIN_X,
            "y": time_code.ORIGIN_Y,
            "block": time_code.BLOCK,
            "columns": time_code.COLUMNS,
            "rows": time_code.ROWS,
            "sample": time_code.SAMPLE,
        }
    ),
)


class Watched:
    """One way of watching: its frames (painted ms, shown ms, seconds buffered ahead, playback rate) and rejects."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.frames: list[tuple[int, float, float | None, float]] = []
        self.stalls: int | None = None  # 'waiting' events of the video while measured
        self.rejected = 0

    def take(self, records: list[dict]) -> None:
        for record in records:
            painted = time_code.decode_levels(record["levels"])
            if painted is None:
                self.rejected += 1
            else:
                self.frames.append((painted, record["shown"], record["ahead"], record.get("rate", 1)))

    def summary(self, since_ms: float) -> dict:
        kept = [frame for frame in self.frames if frame[0] >= since_ms]
        lags = sorted(shown - painted for painted, shown, *_ in kept)
        aheads = sorted(ahead for _, _, ahead, _ in kept if ahead is not None)
        transit = [shown - painted - 1000 * ahead for painted, shown, ahead, _ in kept if ahead is not None]
        if not lags:
            return {"frames": 0, "rejected": self.rejected}
        return {
            "frames": len(lags),
            "rejected": self.rejected,
            "span_s": round((kept[-1][0] - kept[0][0]) / 1000, 1),
            "frames_shown_faster_than_1x": sum(1 for frame in kept if frame[3] > 1),
            "stalls": self.stalls,
            "lag_ms_p50": round(statistics.median(lags)),
            "lag_ms_p95": round(lags[int(0.95 * (len(lags) - 1))]),
            "lag_ms_max": round(lags[-1]),
            "lag_ms_min": round(lags[0]),
            "buffered_ahead_ms_p50": round(1000 * statistics.median(aheads)) if aheads else None,
            # what is left once the player's own lead is taken away: camera, ingest, relay, decode
            "lag_minus_ahead_ms_p50": round(statistics.median(transit)) if transit else None,
        }


class RtspFloor(threading.Thread):
    """The camera read by a plain decoder: lag from the painted time to the decoded picture."""

    def __init__(self, url: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.stop = url, stop
        self.path = Watched("rtsp_decoder")

    def run(self) -> None:
        options = {"rtsp_transport": "tcp", "fflags": "nobuffer", "flags": "low_delay"}
        with av.open(self.url, options=options, timeout=10) as container:
            for frame in container.decode(video=0):
                decoded = time.time() * 1000
                plane = frame.planes[0]
                painted = time_code.decode_levels(time_code.block_levels(bytes(plane), plane.line_size))
                if painted is None:
                    self.path.rejected += 1
                else:
                    self.path.frames.append((painted, decoded, None, 1))
                if self.stop.is_set():
                    return


class Served:
    def __init__(self, url: str) -> None:
        self.url = url


def start_cluster(work: Path, postgres: PostgresServer, camera: RtspServerProcess, site: Path):
    database_url = postgres.migrated("ww_bench_lag")
    engine = make_engine(database_url)
    add_user(engine, "command", PASSWORD, "city_command", [], {COUNTY})
    engine.dispose()
    env = node_env(work / "node-a", database_url, site)
    node = NodeProcess("node-a", work / "node-a", env, ["--listen", "127.0.0.1:0"]).start()
    port = free_port()
    (work / "web").mkdir()
    web = subprocess.Popen(
        [sys.executable, "-m", "watchwall.roles.cli", "web", "--port", str(port), "--threads", "16"],
        env=dict(env, WATCHWALL_DATA_DIR=str(work / "web")),
        stdout=(work / "web" / "web.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    return database_url, env, node, web, f"http://127.0.0.1:{port}"


def open_live_page(browser, server, label: str):
    context = login_as(browser, server, "command", viewport={"width": 1280, "height": 720})
    context.add_init_script(FRAME_READER)
    page = context.new_page()
    page.goto(f"{server.url}/centres/{COUNTY}?lang=en")
    page.wait_for_selector(f"#centre-live[data-live-camera={CAMERA}]", timeout=60_000)
    page.wait_for_function("() => window.__frames.length > 10", timeout=90_000)
    print(f"{label}: playing", file=sys.stderr, flush=True)
    return context, page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="frames measured, after the warm-up")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument(
        "--fps", type=int, default=25, help="the camera's frame rate (a keyframe every second)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ww-lag-"))
    camera = RtspServerProcess(
        {f"/{CAMERA}": "timecode"},
        extra_args=("--width", str(WIDTH), "--height", str(HEIGHT), "--fps", str(args.fps)),
    ).start()
    site = cluster_site(work / "site.yaml", lambda camera_id: camera.url(f"/{camera_id}"), {COUNTY: [CAMERA]})
    postgres = PostgresServer()
    serve = ServedWatchWall(
        dict(watchwall_env(work / "serve"), WATCHWALL_SITE=str(site)), free_port(), work / "serve.log"
    )
    (work / "serve").mkdir()
    add_users(serve, ("command",))
    database_url = node = web = None
    stop = threading.Event()
    floor = RtspFloor(camera.url(f"/{CAMERA}"), stop)
    paths = {"direct": Watched("direct"), "relay": Watched("relay")}
    try:
        serve.start()
        database_url, env, node, web, web_url = start_cluster(work, postgres, camera, site)
        wait_for(lambda: cluster_status(env)["cameras"].get(CAMERA, {}).get("owner") == "node-a", 90, "node")
        wait_http(f"{web_url}/login", 120)
        floor.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = {
                "direct": open_live_page(browser, serve, "direct"),
                "relay": open_live_page(browser, Served(web_url), "relay"),
            }
            time.sleep(args.warmup)
            since_ms = time.time() * 1000
            stalls_before = {
                name: page.evaluate("() => window.__stalls") for name, (_, page) in pages.items()
            }
            load_before = os.getloadavg()[0]
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))
                for name, (_, page) in pages.items():
                    paths[name].take(page.evaluate("() => window.__frames.splice(0)"))
            load_after = os.getloadavg()[0]
            for name, (_, page) in pages.items():
                paths[name].stalls = page.evaluate("() => window.__stalls") - stalls_before[name]
            for context, _ in pages.values():
                context.close()
            browser.close()
        stop.set()
        floor.join(10)
    finally:
        stop.set()
        serve.stop()
        if web is not None:
            web.terminate()
            try:
                web.wait(timeout=30)
            except subprocess.TimeoutExpired:
                web.kill()
        if node is not None:
            node.stop()
        camera.kill()
        if database_url is not None:
            postgres.drop(database_url)
    result = {
        "camera": f"{WIDTH}x{HEIGHT} {args.fps} fps H.264 baseline, x264 zerolatency, keyframe every 1 s",
        "measured_s": args.seconds,
        "load_average_1m_before_after": [round(load_before, 1), round(load_after, 1)],
        "rtsp_decoder": floor.path.summary(since_ms),
        **{name: path.summary(since_ms) for name, path in paths.items()},
    }
    direct, relay = result["direct"], result["relay"]
    if direct.get("frames") and relay.get("frames"):
        result["relay_added_ms_p50"] = relay["lag_ms_p50"] - direct["lag_ms_p50"]
        result["relay_added_ms_p95"] = relay["lag_ms_p95"] - direct["lag_ms_p95"]
        result["goal_500ms_p95_met"] = {
            "direct": direct["lag_ms_p95"] <= 500,
            "relay": relay["lag_ms_p95"] <= 500,
        }
    result["logs"] = str(work)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
