"""Which stream a live view gets: the wanted one when it is up and playable, else the other, else thumbnails;
and a tile that follows the choice onto the other stream's channel and back."""

from __future__ import annotations

import threading

import pytest

from tests.video.live.hevc_clip import hevc_packets
from tests.video.live.test_live_mux import clip, drain, packets_of  # noqa: F401  (clip is a fixture)
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.packet import StreamInfo
from watchwall.video.ingest.stream_pair import sub_larger_than_main
from watchwall.video.live.channel import LiveHub
from watchwall.video.live.stream_choice import Choice, TileStream, choose_stream, parse_playable

H264 = frozenset({"h264"})
BOTH = frozenset({"h264", "hevc"})
UP = "online"


@pytest.mark.parametrize(
    ("wanted", "playable", "states", "expected"),
    [
        # Debian's Chromium: the full-screen view wants the H.265 main stream and gets the sub stream
        ("main", H264, {"main": (UP, "hevc"), "sub": (UP, "h264")}, Choice("sub", "main", "unplayable")),
        # a browser with HEVC in MSE gets the main stream
        ("main", BOTH, {"main": (UP, "hevc"), "sub": (UP, "h264")}, Choice("main", "main")),
        ("sub", H264, {"main": (UP, "hevc"), "sub": (UP, "h264")}, Choice("sub", "sub")),
        # the sub stream down: tiles go to the main stream where it plays, else to thumbnails
        ("sub", BOTH, {"main": (UP, "hevc"), "sub": ("offline", "h264")}, Choice("main", "sub", "down")),
        ("sub", H264, {"main": (UP, "hevc"), "sub": ("stalled", "h264")}, Choice(None, "sub", "down")),
        ("sub", H264, {"main": (UP, "h264"), "sub": ("error", "h264")}, Choice("main", "sub", "down")),
        # still connecting, codec not known yet: wait on the wanted stream
        ("sub", H264, {"main": ("connecting", None), "sub": ("connecting", None)}, Choice("sub", "sub")),
        # one stream only: it is the one wanted, whatever the role says
        ("sub", H264, {"main": (UP, "h264")}, Choice("main", "main")),
        ("sub", H264, {"main": (UP, "hevc")}, Choice(None, "main", "unplayable")),
    ],
)
def test_choose_stream(wanted, playable, states, expected):
    assert choose_stream(wanted, playable, states) == expected


def test_play_parameter():
    assert parse_playable(None) == H264
    assert parse_playable("h264,hevc,vp9,<script>") == BOTH


def test_a_sub_stream_larger_than_its_main_one_is_refused_naming_the_field():
    from fractions import Fraction

    small, large = (StreamInfo("h264", w, h, Fraction(1, 90000)) for w, h in ((640, 360), (1920, 1080)))
    assert "sub_rtsp" in sub_larger_than_main(small, large) and "1920x1080" in sub_larger_than_main(
        small, large
    )
    assert sub_larger_than_main(large, small) is None
    assert sub_larger_than_main(None, large) is None  # not probed yet: nothing to say


def test_a_tile_moves_to_the_main_stream_when_the_sub_one_fails_and_back(clip):  # noqa: F811
    sub_packets = packets_of(clip)
    main_packets = hevc_packets(width=640, height=360, frames=20, gop=10)
    fanouts = {"cam": {"main": Fanout("cam"), "sub": Fanout("cam")}}
    hub = LiveHub({"cam": fanouts["cam"]["main"]}, fanouts)
    states = {"main": (UP, "hevc"), "sub": (UP, "h264")}
    tile = TileStream(hub, "cam", "sub", BOTH, lambda _camera: dict(states), threading.Event())
    try:
        assert (
            tile.update()
            and tile.choice == Choice("sub", "sub")
            and tile.viewer.channel.fanout is fanouts["cam"]["sub"]
        )
        for packet in sub_packets[:20]:
            fanouts["cam"]["sub"].publish(packet)
        messages = drain(tile.viewer, 1.0)
        assert messages[0][0] == "init" and messages[0][1][0].startswith("avc1.")

        states["sub"] = ("offline", "h264")
        assert tile.update() and tile.choice == Choice("main", "sub", "down") and tile.switches == 1
        for packet in main_packets:
            fanouts["cam"]["main"].publish(packet)
        messages = drain(tile.viewer, 1.0)
        assert messages[0][0] == "init" and messages[0][1][0].startswith("hvc1.")
        assert not tile.update()  # nothing changed, nothing done

        states["sub"] = (UP, "h264")
        assert tile.update() and tile.choice == Choice("sub", "sub") and tile.switches == 2
        assert hub.channel("cam", "main").viewers == 0  # the main stream's channel was left
    finally:
        tile.close()
        hub.stop()
    with pytest.raises(KeyError):
        LiveHub({"cam": fanouts["cam"]["main"]}).channel("cam", "sub")
