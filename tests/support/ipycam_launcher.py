"""Run the PyPI ``ipycam`` virtual camera for tests, bound to one address, with its defects patched.

Runs under ipycam's own venv (see ``.ci/ipycam-setup.sh``), never the project venv, so
it imports nothing from WatchWall. Patches are applied at run time; site-packages is
never edited. The patches, and why each is needed:

- WS-Discovery: the camera multicasts a Hello/Bye on start/stop and listens on every
  interface. In ``camera`` mode discovery is off; in ``discovery`` mode (meant for a
  network namespace) it answers Probes but sends no Hello/Bye.
- Binding: the ONVIF/HTTP server listens on ``''`` and the RTSP server on 0.0.0.0;
  both are bound to ``--host`` instead.
- SOAP replies: the PTZ templates use the prefixes ``ptz:``/``tptz:`` that the envelope
  never declares (the reply is not well-formed XML), and GetStatus leaves
  ``{{pan_tilt_status}}``/``{{zoom_status}}``/``{{utc_time}}`` unfilled.
- Clock: ``--clock-offset`` shifts the camera's GetSystemDateAndTime, to measure drift.

Prints one line ``READY {json}`` on stdout once serving; stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time

PTZ_NAMESPACE = "http://www.onvif.org/ver20/ptz/wsdl"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("camera", "discovery"), default="camera")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind and to advertise")
    parser.add_argument("--onvif-port", type=int, required=True)
    parser.add_argument("--rtsp-port", type=int, default=0, help="0: no RTSP server")
    parser.add_argument("--workdir", required=True, help="cwd of the camera (it writes ptz_presets.json)")
    parser.add_argument("--user", default="")
    parser.add_argument("--password-env", default="", help="env var holding the password")
    parser.add_argument("--name", default="Test Camera")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--clock-offset", type=float, default=0.0, help="seconds added to the camera clock")
    return parser.parse_args(argv)


def patch_soap_templates(ipycam, clock_offset: float) -> None:
    service = ipycam.onvif.ONVIFService
    original_load = service._load_templates

    def load_templates(self) -> None:
        original_load(self)
        envelope = self._templates["envelope"]
        declarations = f'xmlns:ptz="{PTZ_NAMESPACE}" xmlns:tptz="{PTZ_NAMESPACE}" '
        self._templates["envelope"] = envelope.replace("xmlns:tds=", declarations + "xmlns:tds=", 1)

    def ptz_get_status(self, body: str) -> str:
        status = self.ptz.get_status()
        move_status = "MOVING" if status["moving"] else "IDLE"
        reply = self._render(
            "ptz_get_status",
            pan=status["pan"],
            tilt=status["tilt"],
            zoom=status["zoom"],
            pan_tilt_status=move_status,
            zoom_status=move_status,
            utc_time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + clock_offset)),
        )
        return self._wrap_envelope(reply)

    def get_system_date_time(self) -> str:
        now = time.gmtime(time.time() + clock_offset)
        reply = self._render(
            "get_system_date_time",
            hour=now.tm_hour,
            minute=now.tm_min,
            second=now.tm_sec,
            year=now.tm_year,
            month=now.tm_mon,
            day=now.tm_mday,
        )
        return self._wrap_envelope(reply)

    service._load_templates = load_templates
    service.ptz_get_status = ptz_get_status
    service.get_system_date_time = get_system_date_time


def silent_discovery_class(ipycam):
    class SilentDiscovery(ipycam.discovery.WSDiscoveryServer):
        """Answers Probes; never multicasts a Hello or Bye."""

        def _send_announcement(self, action: str) -> None:
            return None

    return SilentDiscovery


class NoDiscovery:
    def __init__(self, *_args, **_kwargs) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def patch_camera_module(ipycam, host: str) -> None:
    camera_module = ipycam.camera

    class BoundHTTPServer(camera_module.ReusableThreadingTCPServer):
        def __init__(self, address, handler, *args, **kwargs):
            super().__init__((host, address[1]), handler, *args, **kwargs)

    class BoundRTSPServer(camera_module.NativeRTSPServer):
        def __init__(self, port: int = 8554, host_: str | None = None):
            super().__init__(port=port, host=host)

    camera_module.ReusableThreadingTCPServer = BoundHTTPServer
    camera_module.NativeRTSPServer = BoundRTSPServer
    camera_module.WSDiscoveryServer = NoDiscovery
    # go2rtc is never part of the test setup; a stray one on :1984 must not be used.
    camera_module.check_go2rtc_running = lambda *a, **k: False


def make_config(ipycam, args: argparse.Namespace):
    password = os.environ.get(args.password_env, "") if args.password_env else ""
    return ipycam.CameraConfig(
        name=args.name,
        local_ip=args.host,
        onvif_port=args.onvif_port,
        rtsp_port=args.rtsp_port or 1,
        username=args.user,
        password=password,
        main_width=args.width,
        main_height=args.height,
        main_fps=args.fps,
        main_bitrate="1M",
        sub_width=max(16, args.width // 2),
        sub_height=max(16, args.height // 2),
        sub_fps=args.fps,
        sub_bitrate="300K",
        hw_accel="cpu",
        show_timestamp=True,
    )


def feed_frames(
    camera, width: int, height: int, fps: int, stop: threading.Event, fed: threading.Event
) -> None:
    import numpy as np

    frame_index = 0
    period = 1.0 / fps
    while not stop.is_set():
        frame = np.zeros((height, width, 3), dtype=np.uint8)
        frame[:, :, 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
        bar = (frame_index * 4) % width
        frame[:, bar : bar + 8, 1] = 255
        camera.stream(frame)
        fed.set()
        frame_index += 1
        stop.wait(period)


def run_camera(ipycam, args: argparse.Namespace, stop: threading.Event) -> int:
    if not args.rtsp_port:
        ipycam.camera.is_native_rtsp_available = lambda: False
    camera = ipycam.IPCamera(make_config(ipycam, args))
    if not camera.start():
        print("ipycam failed to start", file=sys.stderr, flush=True)
        return 1
    fed = threading.Event()
    feeder = threading.Thread(
        target=feed_frames, args=(camera, args.width, args.height, args.fps, stop, fed), daemon=True
    )
    feeder.start()
    if not fed.wait(timeout=30):  # a snapshot right after READY needs a frame
        print("ipycam got no first frame", file=sys.stderr, flush=True)
        stop.set()
        camera.stop()
        return 1
    ready = {
        "mode": "camera",
        "onvif": f"http://{args.host}:{args.onvif_port}/onvif/device_service",
        "rtsp_main": camera.config.main_stream_rtsp if args.rtsp_port else None,
        "streaming_mode": camera._streaming_mode,
    }
    print("READY " + json.dumps(ready), flush=True)
    stop.wait()
    feeder.join(timeout=2)
    camera.stop()
    return 0


def run_discovery(ipycam, args: argparse.Namespace, stop: threading.Event) -> int:
    config = make_config(ipycam, args)
    service = ipycam.ONVIFService(config, None)
    responder = silent_discovery_class(ipycam)(service)
    responder.start()
    print("READY " + json.dumps({"mode": "discovery", "xaddr": config.onvif_url}), flush=True)
    stop.wait()
    responder.stop()
    responder.join(timeout=3)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    os.chdir(args.workdir)

    import ipycam

    patch_soap_templates(ipycam, args.clock_offset)
    patch_camera_module(ipycam, args.host)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.mode == "discovery":
        return run_discovery(ipycam, args, stop)
    return run_camera(ipycam, args, stop)


if __name__ == "__main__":
    sys.exit(main())
