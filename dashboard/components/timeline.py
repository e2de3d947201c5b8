"""The recording timeline of one camera and day: segments as bars, gaps by reason, alarms as markers,
bookmarks (an instant as a marker, a span as a bar) and evidence locks as bars on rows of their own.

A pure function of ``watchwall.video.record.playback.timeline``'s answer. Times are drawn in the
site's local zone (plotly has no time zones: the axis shows naive local
times). Every clickable point carries its instant as epoch seconds in
``customdata``, so a click says exactly where to seek.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import plotly.graph_objects as go

from watchwall.config import timestamps

SEGMENT_COLOUR = "#3fa7ff"
GAP_COLOURS = {
    "camera_offline": "#ff6b6b",
    "stalled": "#ffb547",
    "recorder_stopped": "#9aa7b8",
    "recorder_crashed": "#d66bff",
    "dropped": "#ffd84a",
}
OTHER_GAP_COLOUR = "#c0c8d4"
ALARM_COLOUR = "#ff3b3b"
BOOKMARK_COLOUR = "#7ee081"
LOCK_COLOUR = "#f2c14e"
CLICK_STEP_S = 10  # resolution of a click anywhere on the recording row
PAD_S = 30


def local_text(epoch: float, zone: ZoneInfo) -> str:
    """An instant as plotly's naive date string in the local zone."""
    return timestamps.local_text(epoch, zone, milliseconds=True)


def visible_range(data: dict) -> tuple[float, float]:
    """The part of the day worth showing: what was recorded (with its gaps and alarms), or the whole day."""
    instants = [item[key] for item in data["segments"] + data["gaps"] for key in ("start_utc", "end_utc")]
    instants += [float(alarm["at_utc"]) for alarm in data["alarms"]]
    if not instants:
        return data["start_utc"], data["end_utc"]
    low, high = min(instants), max(instants)
    pad = max(PAD_S, (high - low) * 0.05)
    return max(data["start_utc"], low - pad), min(data["end_utc"], high + pad)


def _spans(items: list[dict], day_start: float, day_end: float) -> list[tuple[float, float, dict]]:
    return [
        (max(item["start_utc"], day_start), min(item["end_utc"], day_end), item)
        for item in items
        if min(item["end_utc"], day_end) > max(item["start_utc"], day_start)
    ]


def _bars(name, row, spans, zone, colour, hover) -> go.Bar:
    return go.Bar(
        name=name,
        orientation="h",
        y=[row] * len(spans),
        base=[local_text(start, zone) for start, _end, _item in spans],
        x=[(end - start) * 1000 for start, end, _item in spans],
        customdata=[[start, end] for start, end, _item in spans],
        marker={"color": colour if isinstance(colour, str) else list(colour), "line": {"width": 0}},
        hovertext=hover,
        hoverinfo="text",
        width=0.6,
    )


def timeline_figure(data: dict, zone: ZoneInfo, labels: dict[str, str]) -> go.Figure:
    """The figure for ``data`` (from ``watchwall.video.record.playback.timeline``).

    ``labels``: row names ``recording``, ``gaps``, ``alarms``, the ``gap.<reason>`` and
    ``alarm.<kind>`` names, and ``empty`` for a day without recordings; with ``data["bookmarks"]``
    (dicts with ``id``, ``start_utc``, ``end_utc``, ``title``, ``category``, ``author``) or
    ``data["locks"]`` (``lock_id``, ``start_utc``, ``end_utc``) also ``bookmarks``, ``locks`` and the
    ``category.<code>`` names. Those traces come after the first four (recording, gaps, alarms, seek).
    """
    day_start, day_end = data["start_utc"], data["end_utc"]
    rows = [labels["alarms"], labels["gaps"], labels["recording"]]
    if "locks" in data:
        rows.append(labels["locks"])
    if "bookmarks" in data:
        rows.append(labels["bookmarks"])
    figure = go.Figure()
    segments = _spans(data["segments"], day_start, day_end)
    figure.add_trace(
        _bars(
            labels["recording"],
            labels["recording"],
            segments,
            zone,
            SEGMENT_COLOUR,
            [f"{local_text(s, zone)[11:19]} – {local_text(e, zone)[11:19]}" for s, e, _ in segments],
        )
    )
    gaps = _spans(data["gaps"], day_start, day_end)
    figure.add_trace(
        _bars(
            labels["gaps"],
            labels["gaps"],
            gaps,
            zone,
            [GAP_COLOURS.get(item["reason"], OTHER_GAP_COLOUR) for _s, _e, item in gaps],
            [
                f"{labels.get('gap.' + item['reason'], item['reason'])}<br>"
                f"{local_text(s, zone)[11:19]} – {local_text(e, zone)[11:19]} ({e - s:.0f} s)"
                for s, e, item in gaps
            ],
        )
    )
    alarms = [alarm for alarm in data["alarms"] if day_start <= float(alarm["at_utc"]) < day_end]
    figure.add_trace(
        go.Scatter(
            name=labels["alarms"],
            mode="markers",
            x=[local_text(float(alarm["at_utc"]), zone) for alarm in alarms],
            y=[labels["alarms"]] * len(alarms),
            customdata=[[float(alarm["at_utc"])] for alarm in alarms],
            marker={"symbol": "triangle-down", "size": 14, "color": ALARM_COLOUR},
            hovertext=[
                f"{labels.get('alarm.' + str(alarm.get('kind')), str(alarm.get('kind', '')))}<br>"
                f"{local_text(float(alarm['at_utc']), zone)[11:19]}"
                for alarm in alarms
            ],
            hoverinfo="text",
        )
    )
    low, high = visible_range(data)
    figure.add_trace(_click_layer(segments, zone, labels["recording"]))
    if "locks" in data:
        figure.add_trace(_lock_bars(data["locks"], day_start, day_end, zone, labels))
    if "bookmarks" in data:
        figure.add_traces(_bookmark_traces(data["bookmarks"], day_start, day_end, zone, labels))
    figure.update_layout(
        barmode="overlay",
        showlegend=False,
        margin={"l": 90, "r": 20, "t": 10, "b": 40},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(255,255,255,0.03)",
        font={"color": "#dbe4f0"},
        hovermode="closest",
        clickmode="event",
        xaxis={
            "type": "date",
            "range": [local_text(low, zone), local_text(high, zone)],
            "gridcolor": "rgba(255,255,255,0.08)",
            "tickformat": "%H:%M:%S",
        },
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": rows, "fixedrange": True},
    )
    if len(rows) > 3:
        figure.update_yaxes(range=[-0.5, len(rows) - 0.5])  # the mark rows show even when empty
    if not segments and not gaps and not alarms:
        figure.add_annotation(text=labels["empty"], showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return figure


def _click_layer(segments, zone: ZoneInfo, row: str) -> go.Scatter:
    """Invisible points every ``CLICK_STEP_S`` along the recorded spans: a click there seeks to that instant."""
    instants: list[float] = []
    for start, end, _item in segments:
        step_start = start
        while step_start < end:
            instants.append(step_start)
            step_start += CLICK_STEP_S if end - start > CLICK_STEP_S * 2 else 1
    return go.Scatter(
        name="seek",
        mode="markers",
        x=[local_text(moment, zone) for moment in instants],
        y=[row] * len(instants),
        customdata=[[moment] for moment in instants],
        marker={"size": 18, "opacity": 0},
        hovertemplate="%{x|%H:%M:%S}<extra></extra>",
    )


def _lock_bars(locks: list[dict], day_start: float, day_end: float, zone: ZoneInfo, labels) -> go.Bar:
    spans = _spans(locks, day_start, day_end)
    bars = _bars(
        labels["locks"],
        labels["locks"],
        spans,
        zone,
        LOCK_COLOUR,
        [
            f"{labels['locks']} #{item['lock_id']}<br>"
            f"{local_text(item['start_utc'], zone)[11:19]} – {local_text(item['end_utc'], zone)[11:19]}"
            for _s, _e, item in spans
        ],
    )
    bars.customdata = [[start, end, item["lock_id"]] for start, end, item in spans]
    return bars


def _bookmark_traces(
    bookmarks: list[dict], day_start: float, day_end: float, zone: ZoneInfo, labels
) -> list[go.BaseTraceType]:
    """Spans as bars and instants as markers, on the bookmarks row; customdata [start, end, id]."""

    def hover(item: dict) -> str:
        when = local_text(item["start_utc"], zone)[11:19]
        if item["end_utc"] > item["start_utc"]:
            when += f" – {local_text(item['end_utc'], zone)[11:19]}"
        category = labels.get(f"category.{item['category']}", item["category"])
        return f"{item['title']}<br>{category} · {item['author']}<br>{when}"

    spans = [item for item in bookmarks if item["end_utc"] > item["start_utc"]]
    instants = [item for item in bookmarks if item["end_utc"] <= item["start_utc"]]
    span_spans = _spans(spans, day_start, day_end)
    bars = _bars(
        labels["bookmarks"],
        labels["bookmarks"],
        span_spans,
        zone,
        BOOKMARK_COLOUR,
        [hover(item) for _s, _e, item in span_spans],
    )
    bars.customdata = [[item["start_utc"], item["end_utc"], item["id"]] for _s, _e, item in span_spans]
    instants = [item for item in instants if day_start <= item["start_utc"] < day_end]
    markers = go.Scatter(
        name=labels["bookmarks"],
        mode="markers",
        x=[local_text(item["start_utc"], zone) for item in instants],
        y=[labels["bookmarks"]] * len(instants),
        customdata=[[item["start_utc"], item["end_utc"], item["id"]] for item in instants],
        marker={
            "symbol": "diamond",
            "size": 13,
            "color": BOOKMARK_COLOUR,
            "line": {"width": 1, "color": "#0b1422"},
        },
        hovertext=[hover(item) for item in instants],
        hoverinfo="text",
    )
    return [bars, markers]
