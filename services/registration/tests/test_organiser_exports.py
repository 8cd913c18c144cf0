"""Exports of the participant list (CSV, XLSX) and the attendance list per day (PDF)."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import openpyxl
import pypdf

from registration_testing import MEETING_START, bearer, organiser, publish_meeting, registered, sign_in_browser
from treffpunkt_registration import attendance_pdf
from treffpunkt_registration import registrations as journey

TWO_DAYS = {"ends_at": (MEETING_START + timedelta(days=1, hours=6)).isoformat()}


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def _xlsx_rows(response) -> list[list]:
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return [[c.value for c in row] for row in sheet.iter_rows()]


def _pdf_text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.data)).pages)


def test_the_csv_and_xlsx_contain_exactly_the_filtered_participants(client, engine, settings):
    meeting_id = publish_meeting(engine, capacity=2)
    registered(engine, settings, meeting_id, 1, first_name="Jürgen", last_name="Weiß", organisation="BAMF")
    registered(engine, settings, meeting_id, 2, first_name="Anna", last_name="Becker",
               organisation="Ausländerbehörde Gießen")
    registered(engine, settings, meeting_id, 3, first_name="Carla", last_name="Yilmaz", organisation="BAMF")
    headers = bearer(organiser(meeting_id))
    base = f"/organiser/meetings/{meeting_id}/participants"
    everyone = _csv_rows(client.get(base + ".csv", headers=headers))
    assert everyone[0][:4] == ["Nachname", "Vorname", "E-Mail-Adresse", "Behörde / Organisation"]
    assert [r[0] for r in everyone[1:]] == ["Becker", "Weiß", "Yilmaz"]
    filtered = {"authority": "bamf", "status": "confirmed"}
    rows = _csv_rows(client.get(base + ".csv", query_string=filtered, headers=headers))
    assert [(r[0], r[1], r[6]) for r in rows[1:]] == [("Weiß", "Jürgen", "bestätigt")]
    sheet = _xlsx_rows(client.get(base + ".xlsx", query_string=filtered, headers=headers))
    assert [(r[0], r[1], r[3]) for r in sheet[1:]] == [("Weiß", "Jürgen", "BAMF")]
    waiting = _xlsx_rows(client.get(base + ".xlsx", query_string={"q": "yilmaz"}, headers=headers))
    assert [(r[0], r[6], r[7]) for r in waiting[1:]] == [("Yilmaz", "Warteliste", 1)]
    english = _csv_rows(client.get(base + ".csv", query_string={"lang": "en", "q": "weiß"}, headers=headers))
    assert english[0][:2] == ["Last name", "First name"] and english[1][6] == "confirmed"
    bad = client.get(base + ".csv", query_string={"status": "x"}, headers=headers)
    assert bad.status_code == 400


def test_formula_injection_is_neutralised_in_the_csv_and_the_xlsx_holds_text_never_formulas(client, engine, settings):
    meeting_id = publish_meeting(engine)
    evil = {"first_name": "=HYPERLINK(\"http://evil.example\",\"x\")", "last_name": "+SUM(A1:A9)",
            "organisation": "@cmd|' /C calc'!A0", "function": "-2+3"}
    registered(engine, settings, meeting_id, 1, **evil)
    headers = bearer(organiser(meeting_id))
    rows = _csv_rows(client.get(f"/organiser/meetings/{meeting_id}/participants.csv", headers=headers))
    cells = rows[1]
    assert cells[0] == "'+SUM(A1:A9)" and cells[1] == "'" + evil["first_name"]
    assert cells[3] == "'" + evil["organisation"] and cells[4] == "'-2+3"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    response = client.get(f"/organiser/meetings/{meeting_id}/participants.xlsx", headers=headers)
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    kinds = {c.data_type for row in sheet.iter_rows() for c in row if c.value is not None}
    assert "f" not in kinds
    assert [c.value for c in sheet[2]][:5] == [evil["last_name"], evil["first_name"], "erika1@example.org",
                                               evil["organisation"], evil["function"]]


def test_the_attendance_pdf_has_one_row_per_confirmed_participant_of_the_day(client, engine, settings):
    meeting_id = publish_meeting(engine, capacity=4, **TWO_DAYS)
    registered(engine, settings, meeting_id, 1, first_name="Jürgen", last_name="Weiß",
               organisation="Ausländerbehörde Gießen")
    registered(engine, settings, meeting_id, 2, first_name="Đorđe", last_name="Petrović", organisation="BAMF")
    registered(engine, settings, meeting_id, 3, first_name="Una", last_name="Bestätigt", confirm=False)
    cancelled = registered(engine, settings, meeting_id, 4, first_name="Stefan", last_name="Storniert")
    registered(engine, settings, meeting_id, 5, first_name="Wanda", last_name="Wartend")
    journey.cancel(engine, settings, cancelled, by="participant")  # Wanda was waiting: promoted
    headers = bearer(organiser(meeting_id))
    first_day, second_day = MEETING_START.date(), MEETING_START.date() + timedelta(days=1)
    text = _pdf_text(client.get(f"/organiser/meetings/{meeting_id}/attendance/{first_day}.pdf", headers=headers))
    assert "Anwesenheitsliste" in text and "Unterschrift" in text and "2. Landesnetzwerktreffen" in text
    for name in ("Weiß, Jürgen", "Petrović, Đorđe", "Wartend, Wanda"):
        assert text.count(name) == 1, name
    assert "Bestätigt, Una" not in text and "Storniert" not in text
    assert "Ausländerbehörde Gießen" in text and "Angemeldet und bestätigt: 3" in text
    second = _pdf_text(client.get(f"/organiser/meetings/{meeting_id}/attendance/{second_day}.pdf?lang=en",
                                  headers=headers))
    assert "Attendance list" in second and "Signature" in second and "Weiß, Jürgen" in second
    assert client.get(f"/organiser/meetings/{meeting_id}/attendance/{second_day + timedelta(days=1)}.pdf",
                      headers=headers).status_code == 404
    assert client.get(f"/organiser/meetings/{meeting_id}/attendance/gestern.pdf", headers=headers).status_code == 404


def test_names_outside_latin1_print_with_the_system_font_and_are_replaced_without_it(client, engine, settings,
                                                                                      monkeypatch):
    meeting_id = publish_meeting(engine)
    registered(engine, settings, meeting_id, 1, first_name="Łukasz", last_name="Nguyễn 王")
    registered(engine, settings, meeting_id, 2, first_name="Jürgen", last_name="Weiß")
    sign_in_browser(client, organiser(meeting_id))
    url = f"/organiser/meetings/{meeting_id}/attendance/{MEETING_START.date()}.pdf"
    if attendance_pdf._font_dir() is not None:
        assert "Nguyễn" in _pdf_text(client.get(url))
    monkeypatch.setattr(attendance_pdf, "FONT_DIRS", ())
    text = _pdf_text(client.get(url))
    assert "Nguyen ?, Lukasz" in text and "Weiß, Jürgen" in text


def test_exports_refuse_an_unassigned_organiser_before_anything_is_read(client, engine, settings):
    meeting_id = publish_meeting(engine)
    registered(engine, settings, meeting_id, 1)
    headers = bearer(organiser(str(uuid.uuid4())))
    for path in ("participants.csv", "participants.xlsx", f"attendance/{MEETING_START.date()}.pdf"):
        r = client.get(f"/organiser/meetings/{meeting_id}/{path}", headers=headers)
        assert r.status_code == 403 and b"erika1" not in r.data
