"""German first, English second: every German text the participant pages or answers can show has its English
version in the catalogue."""
import re
from pathlib import Path

from treffpunkt_registration import api, pages, personal_pages, registrations, schemas
from treffpunkt_registration.catalog import catalog

PACKAGE = Path(pages.__file__).parent


def german_texts() -> set[str]:
    texts = set()
    for template in (PACKAGE / "templates").glob("*.html"):
        texts |= set(re.findall(r'_\("([^"]+)"\)', template.read_text()))
    for module in PACKAGE.glob("*.py"):
        source = module.read_text()
        texts |= set(re.findall(r'(?:NotPossible|InvalidRoundChoice|ValidationError|RegistrationClosed)\(\s*"([^"]+)"',
                                source))
        texts |= set(re.findall(r'return "([^"]+\.)"', source))  # registration_problem's reasons
        texts |= set(re.findall(r'_text\("([^"]+)"', source))
    texts |= {pages.TOO_MANY, pages.BUSY, pages.ROUND_FULL, personal_pages.INVALID_LINK,
              registrations.DUPLICATE_MESSAGE, api.ALREADY_REGISTERED_LINK_SENT}
    texts |= set(schemas._DEFAULTS.values())
    return {t for t in texts if t.strip()}


def test_every_german_text_of_the_participant_side_has_an_english_version():
    texts = german_texts()
    assert len(texts) > 80  # the scan finds the texts at all
    missing = sorted(t for t in texts if t not in catalog.english)
    assert not missing, missing
