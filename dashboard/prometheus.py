"""``GET /metrics`` for the local Prometheus: cameras, reconnects, recorders, push, callbacks, API.

Process-wide figures (API requests, push clients, callback latency) are kept in this module's
registry and fed through :func:`count_api_request`, :func:`set_push_clients` and
:func:`observe_callback`. Camera and recorder figures are read from the app's ingest service at
scrape time, so they are never stale and cost nothing between scrapes.

Only loopback clients may read ``/metrics``, unless the setting ``metrics_allowed_networks``
(env ``WATCHWALL_METRICS_ALLOWED_NETWORKS``, a JSON list of CIDRs such as ``["10.8.0.0/24"]``)
names more. Behind a reverse proxy named in ``trusted_proxies`` the client's own address
(from ``X-Forwarded-For``) is the one checked (:mod:`watchwall.dashboard.proxies`).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator

import flask
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from watchwall.dashboard.context import AppContext, current
from watchwall.video.ingest.health import STATES
from watchwall.video.state.view import LocalMediaView

log = logging.getLogger(__name__)

CALLBACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)
API_REQUESTS = Counter(
    "watchwall_api_requests",
    "Requests to the REST API by endpoint, method and status code.",
    ["endpoint", "method", "status"],
    registry=PROCESS_REGISTRY,
)
PUSH_CLIENTS = Gauge(
    "watchwall_push_clients", "socket.io clients connected for push.", registry=PROCESS_REGISTRY
)
CALLBACK_SECONDS = Histogram(
    "watchwall_callback_seconds",
    "Time spent in Dash callbacks, by callback.",
    ["callback"],
    buckets=CALLBACK_BUCKETS,
    registry=PROCESS_REGISTRY,
)


def count_api_request(endpoint: str, method: str, status: int) -> None:
    API_REQUESTS.labels(endpoint=endpoint, method=method, status=str(status)).inc()


def set_push_clients(count: int) -> None:
    PUSH_CLIENTS.set(count)


def observe_callback(seconds: float, name: str) -> None:
    CALLBACK_SECONDS.labels(callback=name).observe(seconds)


def _camera_states() -> tuple[str, ...]:
    return STATES


class IngestCollector:
    """Camera and recorder figures of the running app's ingest service, read at scrape time."""

    def __init__(self, context: AppContext) -> None:
        self.context = context

    def describe(self) -> list[Metric]:
        return []  # the families depend on what runs; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        media = self.context.media
        running = GaugeMetricFamily("watchwall_ingest_running", "1 when this process pulls cameras.")
        running.add_metric([], 1 if isinstance(media, LocalMediaView) else 0)
        yield running
        if media is not None:
            try:
                yield from self._cameras(media.health())
                yield from self._recorders(media.recorder_figures())
            except Exception:  # a scrape must answer even when the ingest is in a bad way
                log.exception("could not read camera health for /metrics")

    def _cameras(self, health: dict) -> Iterator[Metric]:
        by_state = dict.fromkeys(_camera_states(), 0)
        for snapshot in health.values():
            by_state[snapshot.state] = by_state.get(snapshot.state, 0) + 1
        cameras = GaugeMetricFamily("watchwall_cameras", "Cameras by stream state.", labels=["state"])
        for state, count in by_state.items():
            cameras.add_metric([state], count)
        yield cameras
        labels = ["camera", "centre"]
        reconnects = CounterMetricFamily(
            "watchwall_camera_reconnects", "Reconnects of each camera's stream.", labels=labels
        )
        received = CounterMetricFamily(
            "watchwall_camera_received_bytes", "Bytes of media received from each camera.", labels=labels
        )
        for camera_id, snapshot in sorted(health.items()):
            place = [camera_id, snapshot.centre or ""]
            reconnects.add_metric(place, snapshot.reconnects)
            received.add_metric(place, snapshot.bytes)
        yield reconnects
        yield received

    def _recorders(self, recorders: dict[str, dict]) -> Iterator[Metric]:
        if not recorders:
            return
        families = {
            "segments_closed": CounterMetricFamily(
                "watchwall_recorder_segments", "Segments closed by each camera's recorder.", labels=["camera"]
            ),
            "packets_written": CounterMetricFamily(
                "watchwall_recorder_packets", "Packets written by each camera's recorder.", labels=["camera"]
            ),
            "bytes_written": CounterMetricFamily(
                "watchwall_recorder_bytes", "Bytes written by each camera's recorder.", labels=["camera"]
            ),
            "errors": CounterMetricFamily(
                "watchwall_recorder_errors", "Write errors of each camera's recorder.", labels=["camera"]
            ),
        }
        present = set()
        for camera_id, figures in sorted(recorders.items()):
            for attribute, family in families.items():
                value = figures.get(attribute)
                if isinstance(value, int | float):
                    family.add_metric([camera_id], value)
                    present.add(attribute)
        yield from (family for attribute, family in families.items() if attribute in present)


def client_allowed(remote_addr: str | None, allowed_networks) -> bool:
    """Loopback always; other addresses only inside one of ``allowed_networks``."""
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return False
    if address.is_loopback:
        return True
    if getattr(address, "ipv4_mapped", None) is not None:
        address = address.ipv4_mapped
        if address.is_loopback:
            return True
    return any(address in network for network in _networks(allowed_networks))


def _networks(allowed_networks) -> list:
    networks = []
    for network in allowed_networks:
        try:
            networks.append(ipaddress.ip_network(network, strict=False))
        except ValueError:
            log.warning("metrics_allowed_networks: %r is not a network (e.g. 10.8.0.0/24); ignored", network)
    return networks


def exposition(context: AppContext) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(IngestCollector(context))
    return generate_latest(PROCESS_REGISTRY) + generate_latest(registry)


def metrics_view() -> flask.Response:
    context = current()
    allowed = getattr(context.settings, "metrics_allowed_networks", None) or ()
    if not client_allowed(flask.request.remote_addr, allowed):
        return flask.Response("metrics are served to loopback clients only\n", 403, mimetype="text/plain")
    return flask.Response(exposition(context), 200, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


def register_prometheus(server: flask.Flask) -> None:
    server.add_url_rule("/metrics", "prometheus_metrics", metrics_view, methods=["GET"])
