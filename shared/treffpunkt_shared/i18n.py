"""German first, English second: a small translation layer for pages, form errors and emails.

Texts are written in German in templates and code; each service keeps a
catalogue of their English versions. The language comes from ``?lang=``,
then a ``lang`` cookie, then German.
"""
from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, g, request

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"


class Catalog:
    def __init__(self, english: Mapping[str, str]):
        self.english = dict(english)

    def gettext(self, text: str, language: str) -> str:
        if language == "en":
            return self.english.get(text, text)
        return text

    def translate_errors(self, errors, language: str):
        """Translate marshmallow's nested error messages."""
        if isinstance(errors, dict):
            return {k: self.translate_errors(v, language) for k, v in errors.items()}
        if isinstance(errors, list):
            return [self.translate_errors(v, language) for v in errors]
        return self.gettext(errors, language) if isinstance(errors, str) else errors


def current_language() -> str:
    chosen = request.args.get("lang") or request.cookies.get("lang") or DEFAULT_LANGUAGE
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def install(app: Flask, catalog: Catalog) -> None:
    app.extensions["treffpunkt_catalog"] = catalog

    @app.before_request
    def _pick_language():
        g.lang = current_language()

    @app.context_processor
    def _translation_helpers():
        lang = g.get("lang", DEFAULT_LANGUAGE)
        return {"_": lambda text: catalog.gettext(text, lang), "lang": lang,
                "other_lang": "en" if lang == "de" else "de"}

    @app.after_request
    def _remember_language(response):
        chosen = request.args.get("lang")
        if chosen in LANGUAGES:
            response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return response
