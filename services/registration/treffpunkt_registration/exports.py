"""The participant list as CSV and XLSX, exactly the rows the organiser's filters select.

Both are opened by spreadsheet programs, which run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (CSV injection, OWASP). In the CSV such a cell gets a leading apostrophe; in the XLSX every value is
written as a typed cell (text stays text, never a formula), so the values keep their exact spelling there.
"""
from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from .participant_list import STATUS_LABELS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# (German heading, value of one participant entry)
COLUMNS = (
    ("Nachname", lambda e, tz: e["last_name"]),
    ("Vorname", lambda e, tz: e["first_name"]),
    ("E-Mail-Adresse", lambda e, tz: e["email"]),
    ("Behörde / Organisation", lambda e, tz: e["organisation"]),
    ("Funktion", lambda e, tz: e["function"]),
    ("Telefon", lambda e, tz: e["phone"]),
    ("Status", lambda e, tz: e["status"]),
    ("Wartelistenplatz", lambda e, tz: e["waitlist_position"]),
    ("Runden", lambda e, tz: e["rounds"]),
    ("Verpflegung", lambda e, tz: e["dietary_needs"]),
    ("Barrierefreiheit", lambda e, tz: e["accessibility_needs"]),
    ("Fotoeinwilligung", lambda e, tz: "ja" if e["photo_consent"] else "nein"),
    ("Angemeldet am", lambda e, tz: _local(e["created_at"], tz)),
    ("Bestätigt am", lambda e, tz: _local(e["confirmed_at"], tz)),
)


def _local(value, zone: str) -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if value else ""


def rows(entries: list[dict], zone: str, translate) -> tuple[list[str], list[list]]:
    """Headings (in the organiser's language) and one row per entry; status words translated too."""
    headings = [translate(h) for h, _ in COLUMNS]
    out = []
    for e in entries:
        row = [get(e, zone) for _, get in COLUMNS]
        row[6] = translate(STATUS_LABELS.get(row[6], row[6]))
        row[8] = "; ".join(r["title"] + ("" if r["held"] else f" ({translate('Wunsch')})") for r in row[8])
        row[11] = translate(row[11])
        out.append(row)
    return headings, out


def neutralise(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def as_csv(headings: list[str], data: list[list]) -> bytes:
    """UTF-8 with a byte-order mark and semicolons, as German spreadsheet programs open it directly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headings])
    for row in data:
        writer.writerow([neutralise(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cell_text(value):
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def as_xlsx(headings: list[str], data: list[list], title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31] or "Liste"
    for row_number, values in enumerate([headings, *data], start=1):
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row_number, column=column, value=_cell_text(value))
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
    for column, heading in enumerate(headings, start=1):
        width = max([len(str(heading))] + [len(str(r[column - 1] or "")) for r in data])
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 8), 50)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
