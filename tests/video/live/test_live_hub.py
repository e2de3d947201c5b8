"""A camera pulled again gets a new fan-out; its live channel follows it."""

from __future__ import annotations

from watchwall.video.ingest.fanout import Fanout
from watchwall.video.live.channel import LiveHub


def test_a_camera_pulled_again_gets_a_channel_of_its_new_fan_out():
    fanouts = {"cam": Fanout("cam")}
    hub = LiveHub(fanouts)
    first = hub.channel("cam")
    assert hub.channel("cam") is first  # the same pull: one channel, however many viewers
    fanouts["cam"] = Fanout("cam")  # removed and pulled again (restarted, or given back to this node)
    again = hub.channel("cam")
    assert again is not first and again.fanout is fanouts["cam"]
