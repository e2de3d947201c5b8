"""The seven county supervision centres of Tianshui, by the codes used in the site file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class County:
    code: str
    name_zh: str
    name_en: str
    weight: float  # share of the city's caseload, roughly by population; used by the demo data


COUNTIES: tuple[County, ...] = (
    County("qinzhou", "秦州区", "Qinzhou District", 0.19),
    County("maiji", "麦积区", "Maiji District", 0.17),
    County("qingshui", "清水县", "Qingshui County", 0.08),
    County("qinan", "秦安县", "Qin'an County", 0.15),
    County("gangu", "甘谷县", "Gangu County", 0.16),
    County("wushan", "武山县", "Wushan County", 0.14),
    County("zhangjiachuan", "张家川回族自治县", "Zhangjiachuan Hui Autonomous County", 0.11),
)
COUNTY_CODES: tuple[str, ...] = tuple(county.code for county in COUNTIES)
