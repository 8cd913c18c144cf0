"""The printable attendance list of one meeting day (PDF): one row per confirmed participant, with a column
for the signature, as the reporting of publicly funded meetings asks for.

Text is set in DejaVu Sans when the system has it (Debian's fonts-dejavu-core: every Latin, Greek and Cyrillic
name prints as typed). Without it the PDF's built-in Helvetica is used, which knows Latin-1 only (German
umlauts and ß print); other characters are then replaced by their base letter (``Đ`` → ``D``, ``ć`` → ``c``, ``ł`` → ``l``)
or, where there is none, by ``?`` so that no name can make the list fail.
"""
from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"


def _font_dir() -> Path | None:
    for directory in FONT_DIRS:
        if (directory / REGULAR).is_file() and (directory / BOLD).is_file():
            return directory
    return None


# Letters that Unicode does not decompose into a base letter and a mark.
_BASE_LETTERS = str.maketrans({"Đ": "D", "đ": "d", "Ł": "L", "ł": "l", "Ħ": "H", "ħ": "h", "Ŧ": "T", "ŧ": "t",
                               "ı": "i", "Œ": "OE", "œ": "oe", "ſ": "s", "–": "-", "—": "-", "„": '"', "“": '"',
                               "”": '"', "‚": "'", "‘": "'", "’": "'", "…": "..."})


def latin1(text: str) -> str:
    """``text`` with what Latin-1 cannot hold replaced by its base letter, or ``?``."""
    out = []
    for ch in text.translate(_BASE_LETTERS):
        try:
            ch.encode("latin-1")
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        try:
            out.append(base.encode("latin-1").decode("latin-1") if base else "?")
        except UnicodeEncodeError:
            out.append("?")
    return "".join(out)


class _AttendancePdf(FPDF):
    footer_text = ""

    def footer(self):
        self.set_y(-12)
        self.set_font(self.font_family, "", 8)
        self.cell(0, 6, self.clean(f"{self.footer_text} · {self.page_no()}/{{nb}}"), align="C")

    def clean(self, text: str) -> str:
        return text if self.is_unicode else latin1(text)

    @property
    def is_unicode(self) -> bool:
        return self.font_family == "dejavu"


def attendance_pdf(*, title: str, day_label: str, venue: str, participants: list[dict], labels: dict) -> bytes:
    """``participants``: dicts with ``name``, ``organisation``; ``labels``: the headings in the reader's
    language (keys: heading, number, name, organisation, signature, count, page)."""
    pdf = _AttendancePdf(orientation="P", unit="mm", format="A4")
    fonts = _font_dir()
    if fonts is not None:
        pdf.add_font("dejavu", "", str(fonts / REGULAR))
        pdf.add_font("dejavu", "B", str(fonts / BOLD))
        family = "dejavu"
    else:
        family = "helvetica"
    pdf.set_font(family, "", 10)
    pdf.footer_text = f"{labels['heading']} · {title} · {day_label}"
    pdf.set_title(pdf.clean(f"{labels['heading']}: {title}, {day_label}"))
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    clean = pdf.clean
    pdf.set_font(family, "B", 15)
    pdf.multi_cell(0, 8, clean(labels["heading"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "B", 12)
    pdf.multi_cell(0, 6, clean(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.multi_cell(0, 5, clean(day_label), new_x="LMARGIN", new_y="NEXT")
    if venue:
        pdf.multi_cell(0, 5, clean(venue), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, clean(f"{labels['count']}: {len(participants)}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    heading_style = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
    with pdf.table(col_widths=(10, 55, 65, 60), line_height=11, headings_style=heading_style,
                   text_align=("RIGHT", "LEFT", "LEFT", "LEFT"), first_row_as_headings=True,
                   repeat_headings=1) as table:
        row = table.row()
        for key in ("number", "name", "organisation", "signature"):
            row.cell(clean(labels[key]))
        for n, p in enumerate(participants, start=1):
            row = table.row()
            row.cell(str(n))
            row.cell(clean(p["name"]))
            row.cell(clean(p["organisation"]))
            row.cell("")
    return bytes(pdf.output())


def day_of(value: str, days: list[date]) -> date | None:
    """The meeting day ``value`` (YYYY-MM-DD) names, or None."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if day in days else None
