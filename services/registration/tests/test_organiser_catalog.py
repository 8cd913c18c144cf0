"""Every German text of the organisers' side has its English version in the catalog."""
from __future__ import annotations

import re
from pathlib import Path

import treffpunkt_registration
from treffpunkt_registration import (attendance, exports, meeting_settings, organiser_actions, organiser_api,
                                     organiser_pages, participant_list)
from treffpunkt_registration.catalog import catalog

TEMPLATES = Path(treffpunkt_registration.__file__).parent / "templates" / "organiser"
_CALL = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")


def _template_texts() -> set[str]:
    texts = set()
    for path in TEMPLATES.glob("*.html"):
        texts |= {a or b for a, b in _CALL.findall(path.read_text())}
    return texts


def _code_texts() -> set[str]:
    texts = {*organiser_actions.QUESTIONS.values(), *organiser_actions.LABELS.values(),
             *organiser_actions.EXPLANATIONS.values(), *organiser_actions.DONE.values(),
             organiser_actions.NOT_PENDING, organiser_actions.UNKNOWN_ACTION, *participant_list.STATUS_LABELS.values(),
             participant_list.INVALID_STATUS, participant_list.TOO_LONG, attendance.NOT_CONFIRMED, attendance.UNKNOWN,
             meeting_settings.QUOTA_INVALID, meeting_settings.HOURS_INVALID, meeting_settings.UNKNOWN_FIELD,
             organiser_pages.AUTHORITY_MISSING, organiser_pages.AUTHORITY_TOO_LONG, organiser_pages.AUTHORITY_CONTROL,
             organiser_pages.AUTHORITY_EXISTS, *(heading for heading, _ in exports.COLUMNS), "ja", "nein"}
    for name in ("UNKNOWN_MEETING", "UNKNOWN_REGISTRATION", "REQUIRED", "NOT_A_DAY", "NOT_A_BOOLEAN", "NOT_AN_ID"):
        texts.add(getattr(organiser_api, name))
    return texts


def test_every_german_text_of_the_organisers_pages_and_messages_has_an_english_version():
    texts = _template_texts() | _code_texts()
    assert len(texts) > 100
    missing = sorted(t for t in texts if t not in catalog.english)
    assert missing == []
