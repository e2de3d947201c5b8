"""The tokens between the roles, and the live wire's framing: what a node accepts and refuses."""

from __future__ import annotations

import io

from watchwall.roles import live_wire, media_tokens
from watchwall.video.codec.fmp4 import Sample, media_fragment

KEY = media_tokens.media_key(b"s" * 32)


def test_a_token_opens_its_own_path_for_a_minute_and_nothing_else():
    token = media_tokens.sign(KEY, "/live/qz0?stream=main", now=1000.0)
    assert media_tokens.check(KEY, "/live/qz0?stream=main", token, now=1010.0) is None
    assert media_tokens.check(KEY, "/live/qz1?stream=main", token, now=1010.0) == "bad signature"
    assert media_tokens.check(KEY, "/live/qz0?stream=sub", token, now=1010.0) == "bad signature"
    assert media_tokens.check(KEY, "/live/qz0?stream=main", token, now=1200.0) == "expired token"
    other = media_tokens.media_key(b"t" * 32)
    assert media_tokens.check(other, "/live/qz0?stream=main", token, now=1010.0) == "bad signature"
    assert media_tokens.check(KEY, "/live/qz0?stream=main", None) == "no token"
    assert media_tokens.check(KEY, "/live/qz0?stream=main", "abc") == "malformed token"
    long_lived = media_tokens.sign(KEY, "/x", ttl_s=3600, now=1000.0)
    assert media_tokens.check(KEY, "/x", long_lived, now=1000.0) == "token valid too long"


def test_fragments_say_whether_they_start_on_a_keyframe_and_messages_round_trip():
    key = media_fragment(1, 0, [Sample(b"\x00\x00\x00\x01e", 3000, True, 0)])
    delta = media_fragment(2, 3000, [Sample(b"\x00\x00\x00\x01A", 3000, False, 0)])
    assert live_wire.is_keyframe_fragment(key)
    assert not live_wire.is_keyframe_fragment(delta)
    wire = io.BytesIO(
        live_wire.encode_viewer_message("init", ("avc1.42C01E", b"INIT"))
        + live_wire.encode_viewer_message("fragment", key, True)
        + live_wire.encode_viewer_message("fragment", delta, False)
        + live_wire.encode(live_wire.KEEPALIVE)
    )
    messages = [live_wire.read_message(wire) for _ in range(4)]
    assert messages == [
        (live_wire.INIT, b"avc1.42C01E\nINIT"),
        (live_wire.KEYFRAME, key),
        (live_wire.FRAGMENT, delta),
        (live_wire.KEEPALIVE, b""),
    ]
    assert live_wire.read_message(wire) is None
