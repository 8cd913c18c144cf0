"""Who may use the organiser pages, and the CSRF field of their forms: the ONE place to wire in real auth.

TODO(auth-merge): everything here is a placeholder that allows access and emits an empty CSRF field, until
``treffpunkt_shared/auth.py`` and ``treffpunkt_shared/csrf.py`` (branch ``auth``) are merged. Then:

* ``_require_organiser``: call the shared sign-in check (redirect to sign-in / 401) and the CSRF check of
  state-changing requests;
* ``_may_manage``: refuse (403) an organiser who is not assigned to the meeting;
* ``csrf_field``: return the shared hidden field with the real token.

Every organiser form already renders ``{{ csrf_field() }}``, and every view calls ``_may_manage(meeting_id)``
before it reads or changes a meeting, so no view or template has to change.
"""
from __future__ import annotations

from flask import Blueprint
from markupsafe import Markup

CSRF_FIELD_NAME = "csrf_token"


def _require_organiser() -> None:
    """Blueprint-wide ``before_request`` hook of the organiser pages.

    TODO(auth-merge): ``return auth.require_organiser()`` and ``csrf.protect()`` for POST requests.
    """
    return None


def _may_manage(meeting_id) -> None:
    """Raise 403 unless the signed-in organiser manages this meeting.

    TODO(auth-merge): ``auth.require_meeting_access(str(meeting_id))`` (assignment in meeting_organisers).
    """
    return None


def csrf_field() -> Markup:
    """The hidden CSRF field every state-changing organiser form carries.

    TODO(auth-merge): ``return csrf.csrf_field()`` (the real token); the field name stays ``csrf_token``.
    """
    return Markup(f'<input type="hidden" name="{CSRF_FIELD_NAME}" value="">')


def install(bp: Blueprint) -> None:
    """Guard every request of ``bp`` and give its templates ``csrf_field()``."""
    bp.before_request(_require_organiser)
    bp.add_app_template_global(csrf_field, "csrf_field")
