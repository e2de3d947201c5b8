"""Figures kept between push refreshes: computed again only once the case data or the clock moves them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watchwall.config.database import make_engine, session_scope, upgrade
from watchwall.config.settings import Settings
from watchwall.config.site import load_site
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.figure_cache import FigureCache, cached, data_moment
from watchwall.metrics.importer import import_file
from watchwall.metrics.models import Subject


def test_one_computation_per_key_and_the_least_recently_used_goes():
    cache = FigureCache(max_entries=2)
    computed: list[str] = []

    def compute(key: str):
        return lambda: computed.append(key) or f"figures of {key}"

    assert cache.get("a", compute("a")) == "figures of a"
    assert cache.get("a", compute("a")) == "figures of a"
    cache.get("b", compute("b"))
    cache.get("a", compute("a"))  # a is now the most recently used
    cache.get("c", compute("c"))  # b goes
    cache.get("a", compute("a"))
    cache.get("b", compute("b"))
    assert computed == ["a", "b", "c", "b"]
    assert (cache.hits, cache.misses) == (3, 4)


def test_county_figures_are_computed_again_once_a_check_arrives(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    engine = make_engine(url)
    settings = Settings(data_dir=tmp_path)
    context = AppContext(settings=settings, site=load_site(settings.site), engine=engine)
    today = datetime.now(UTC).astimezone(settings.zone).date()
    with session_scope(engine) as session:
        session.add(
            Subject(
                external_id="S-1",
                name="张三明",
                county="qinzhou",
                category="probation",
                start_date=today - timedelta(days=10),
                end_date=None,
                supervision_level="ordinary",
            )
        )
    computed: list[int] = []

    def compute():
        computed.append(len(computed) + 1)
        return computed[-1]

    assert cached(context, ("county", "qinzhou", "en"), compute) == 1
    moment = data_moment(context)
    assert cached(context, ("county", "qinzhou", "en"), compute) == 1  # same data, same moment: kept
    assert cached(context, ("county", "maiji", "en"), compute) == 2  # another question
    checked_at = (datetime.now(UTC) - timedelta(minutes=1)).astimezone(settings.zone).isoformat()
    rows = tmp_path / "checkins.csv"
    rows.write_text(
        f"external_id,subject,checked_at,method,result\nc-1,S-1,{checked_at},dingtalk,ok\n", encoding="utf-8"
    )
    import_file(engine, "checkins", rows)
    assert data_moment(context) != moment  # the push watcher's fingerprint saw the check
    assert cached(context, ("county", "qinzhou", "en"), compute) == 3
    engine.dispose()
