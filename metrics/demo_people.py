"""Made-up people and places for the demo data (no real person's data)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from watchwall.metrics.counties import COUNTIES

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰萍红娟建国志海斌鹏飞宏波辉东亮林荣新春文晓彬俊峰亚宁永福"

# approximate centre of each county, for plausible check coordinates
COUNTY_COORDINATES = {
    "qinzhou": (34.58, 105.72),
    "maiji": (34.57, 105.89),
    "qingshui": (34.75, 106.14),
    "qinan": (34.86, 105.67),
    "gangu": (34.74, 105.33),
    "wushan": (34.72, 104.89),
    "zhangjiachuan": (34.99, 106.21),
}


def made_up_name(rng: random.Random) -> str:
    given_length = 1 if rng.random() < 0.3 else 2
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(given_length))


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([value for value, _ in weighted], weights=[weight for _, weight in weighted])[0]


def pick_county(rng: random.Random) -> str:
    return rng.choices([c.code for c in COUNTIES], weights=[c.weight for c in COUNTIES])[0]


def local_moment(day: date, seconds: int, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(seconds=seconds)
