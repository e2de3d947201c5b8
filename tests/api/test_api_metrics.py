"""GET /metrics: Prometheus text of cameras, reconnects, recorders, push clients, callbacks, API requests."""

from __future__ import annotations

import socket
from fractions import Fraction

import av
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from watchwall.config.settings import Settings
from watchwall.config.site import Site
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.prometheus import client_allowed, observe_callback, set_push_clients

from .conftest import build_app, wait_until
from .rows import CHECKINS


def scrape(api, remote_addr: str = "127.0.0.1") -> dict[str, dict[tuple, float]]:
    """{sample name: {sorted label items: value}} of one scrape."""
    response = api.app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": remote_addr})
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get(name, {}).get(tuple(sorted(labels.items())), 0.0)


def test_api_requests_are_counted_by_endpoint_method_and_status(api):
    before = scrape(api)
    assert api.post("checkins", {"rows": CHECKINS}).status_code == 200
    assert api.post("checkins", {"rows": CHECKINS}, token=None).status_code == 401
    assert api.post("checkins", {"rows": CHECKINS}, token=None).status_code == 401
    assert api.client().get("/api/v1/nowhere").status_code == 404
    after = scrape(api)

    def delta(**labels):
        return value(after, "watchwall_api_requests_total", **labels) - value(
            before, "watchwall_api_requests_total", **labels
        )

    assert delta(endpoint="/api/v1/checkins", method="POST", status="200") == 1
    assert delta(endpoint="/api/v1/checkins", method="POST", status="401") == 2
    assert delta(endpoint="unmatched", method="GET", status="404") == 1


def test_push_clients_and_callback_latency(api):
    set_push_clients(7)
    before = scrape(api)
    observe_callback(0.12, "wall.figures")
    observe_callback(3.0, "wall.figures")
    after = scrape(api)
    assert value(after, "watchwall_push_clients") == 7

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("watchwall_callback_seconds_count", callback="wall.figures") == 2
    assert delta("watchwall_callback_seconds_sum", callback="wall.figures") == pytest.approx(3.12)
    assert delta("watchwall_callback_seconds_bucket", callback="wall.figures", le="0.1") == 0
    assert delta("watchwall_callback_seconds_bucket", callback="wall.figures", le="0.15") == 1
    assert delta("watchwall_callback_seconds_bucket", callback="wall.figures", le="+Inf") == 2
    set_push_clients(0)
    assert value(scrape(api), "watchwall_push_clients") == 0


def test_without_ingest_the_scrape_says_so(api):
    samples = scrape(api)
    assert value(samples, "watchwall_ingest_running") == 0
    assert "watchwall_cameras" not in samples and "watchwall_recorder_packets_total" not in samples


def test_only_loopback_clients_unless_settings_allow_more(api, tmp_path, database_url):
    client = api.app.test_client()
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == 200, address
    refused = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.8.0.5"})
    assert refused.status_code == 403 and b"loopback" in refused.data

    class SettingsWithNetworks(Settings):
        metrics_allowed_networks: list[str] = []

    settings = SettingsWithNetworks(
        data_dir=tmp_path, database_url=database_url, metrics_allowed_networks=["10.8.0.0/24"]
    )
    context = AppContext(settings=settings, site=api.context.site, engine=api.engine)
    wider = build_app(context).test_client()
    assert wider.get("/metrics", environ_base={"REMOTE_ADDR": "10.8.0.5"}).status_code == 200
    assert wider.get("/metrics", environ_base={"REMOTE_ADDR": "10.9.0.5"}).status_code == 403
    assert not client_allowed("not an address", ["0.0.0.0/0"])
    assert not client_allowed("10.8.0.5", ["not a network"]) and client_allowed(
        "10.8.0.5", ["x", "10.8.0.0/16"]
    )


def write_h264_file(path, seconds: int = 2, fps: int = 10) -> None:
    """MPEG-TS, so the packets are Annex-B as from an RTSP camera (what the recorder expects)."""
    with av.open(str(path), "w", format="mpegts") as container:
        stream = container.add_stream(
            "libx264", rate=fps, options={"g": str(fps), "bf": "0", "preset": "ultrafast"}
        )
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for index in range(seconds * fps):
            image = np.full((96, 160, 3), (index * 9) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def refused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


def test_cameras_reconnects_and_recorders_of_a_running_ingest(api, tmp_path):
    from watchwall.video.ingest.supervisor import IngestService
    from watchwall.video.record.recorder import start_recording
    from watchwall.video.state.view import LocalMediaView

    clip = tmp_path / "clip.ts"
    write_h264_file(clip)
    cameras = [
        {"id": "playing", "name": "playing", "file": str(clip)},
        {"id": "refused", "name": "refused", "rtsp": f"rtsp://127.0.0.1:{refused_port()}/nothing"},
    ]
    site = Site.model_validate(
        {
            "centres": [
                {
                    "code": "maiji",
                    "name": "麦积区",
                    "level": "county",
                    "rooms": [{"code": "education", "name": "教育学习室", "cameras": cameras}],
                }
            ]
        }
    )
    service = IngestService(site, settings=Settings(data_dir=tmp_path), keyframes=False)
    recorders = []
    service.start()
    try:
        recorders = start_recording(service.fanouts, api.engine, tmp_path / "recordings", segment_seconds=1)
        api.context.media = LocalMediaView(service, None, {r.camera_id: r for r in recorders})

        def settled():
            samples = scrape(api)
            playing = value(samples, "watchwall_recorder_packets_total", camera="playing") > 0
            refused = (
                value(samples, "watchwall_camera_reconnects_total", camera="refused", centre="maiji") >= 1
            )
            online = value(samples, "watchwall_cameras", state="online") == 1
            return samples if playing and refused and online else None

        samples = wait_until(
            settled, 30, "the file camera online and recorded, the refused camera reconnecting"
        )
    finally:
        for recorder in recorders:
            recorder.stop()
        assert service.stop(timeout=5)

    assert value(samples, "watchwall_ingest_running") == 1
    by_state = {dict(labels)["state"]: count for labels, count in samples["watchwall_cameras"].items()}
    assert sum(by_state.values()) == 2
    assert by_state["online"] == 1
    assert {"connecting", "online", "stalled", "offline", "error", "stopped"} <= set(by_state)
    assert value(samples, "watchwall_camera_received_bytes_total", camera="playing", centre="maiji") > 0
    assert value(samples, "watchwall_camera_reconnects_total", camera="playing", centre="maiji") == 0
    assert value(samples, "watchwall_recorder_errors_total", camera="playing") == 0
