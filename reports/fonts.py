"""The CJK font the reports are set in, shipped in assets/fonts/ (source and licence in its README).

WenQuanYi Micro Hei has TrueType outlines, which reportlab can embed (as a subset); CFF fonts
such as Noto Sans CJK cannot be. matplotlib draws the plots' text with the same face, so a
report's pages and plots need no font of the machine's.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from matplotlib import font_manager
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from watchwall.dashboard.i18n import ASSETS_DIR

FONT_FILE = ASSETS_DIR / "fonts" / "wqy-microhei" / "wqy-microhei.ttc"
PDF_FONT = "WenQuanYiMicroHei"  # the name reportlab registers (and the PDF's BaseFont carries)
FAMILY = "WenQuanYi Micro Hei"  # the family matplotlib finds in the file


def font_file() -> Path:
    if not FONT_FILE.is_file():
        raise FileNotFoundError(f"the report font {FONT_FILE} is missing from the installation")
    return FONT_FILE


@cache
def pdf_font() -> str:
    """Register the font with reportlab once per process; its registered name."""
    pdfmetrics.registerFont(TTFont(PDF_FONT, str(font_file()), subfontIndex=0))
    return PDF_FONT


@cache
def plot_font() -> str:
    """Add the font to matplotlib's font manager once per process; its family name."""
    font_manager.fontManager.addfont(str(font_file()))
    return FAMILY
