"""Every test module on the local Redis's database 0 is one of the modules the suite's workers run one
after another (tests/conftest.py, SHARED_REDIS_MODULES): two at once would see each other's cameras."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import SHARED_REDIS_MODULES

ROOT = Path(__file__).resolve().parents[1]
ON_SHARED_REDIS = re.compile(r"tests\.support\.cluster|6379/0\b|\bREDIS_URL\b")


def test_modules_on_the_shared_redis_are_the_listed_ones():
    found = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "tests").rglob("test_*.py")
        if ON_SHARED_REDIS.search(path.read_text(encoding="utf-8")) and path.name != Path(__file__).name
    }
    assert found == SHARED_REDIS_MODULES
