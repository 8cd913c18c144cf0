"""Checking an uploaded document: size, file type by name *and* content, a safe file name.

The client's Content-Type is not trusted; the type comes from the extension and must match the file's first
bytes (PDF, or the ZIP container of Office Open XML and OpenDocument files).
"""
from __future__ import annotations

import re
import unicodedata

from treffpunkt_shared.http import InvalidInput

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", b"PK\x03\x04"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
    ".odp": ("application/vnd.oasis.opendocument.presentation", b"PK\x03\x04"),
    ".odt": ("application/vnd.oasis.opendocument.text", b"PK\x03\x04"),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", b"PK\x03\x04"),
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue"), ("ß", "ss")):
        name = name.replace(umlaut, plain)
    name = unicodedata.normalize("NFKD", name)  # é → e + accent; the accent is dropped below
    name = _UNSAFE.sub("_", name.encode("ascii", "ignore").decode()).strip(" .")
    return name[:200] or "dokument"


def checked_document(filename: str | None, data: bytes) -> tuple[str, str]:
    """(safe file name, content type) of an acceptable upload, or :class:`InvalidInput` saying what is wrong."""
    if not filename:
        raise InvalidInput({"file": ["Bitte eine Datei auswählen. / Please choose a file."]})
    if not data:
        raise InvalidInput({"file": ["Die Datei ist leer. / The file is empty."]})
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidInput({"file": ["Die Datei ist größer als 10 MB. / The file is larger than 10 MB."]})
    name = safe_filename(filename)
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = ALLOWED_TYPES.get(extension)
    if allowed is None:
        raise InvalidInput({"file": ["Erlaubt sind PDF, PowerPoint, Word, Excel und OpenDocument. / "
                                     "Allowed are PDF, PowerPoint, Word, Excel and OpenDocument files."]})
    content_type, magic = allowed
    if not data.startswith(magic):
        raise InvalidInput({"file": ["Der Inhalt passt nicht zur Dateiendung. / "
                                     "The content does not match the file extension."]})
    return name, content_type
