"""Who may use the organiser pages: the shared sign-in (treffpunkt_shared.auth) and meeting assignments.

Every view calls ``_may_manage(meeting_id)`` before it reads or changes a meeting. CSRF is checked for every
state-changing request by ``treffpunkt_shared.csrf`` (installed in the app factory), whose ``csrf_field()``
template global every organiser form renders.
"""
from __future__ import annotations

from flask import Blueprint, request

from treffpunkt_shared.auth import organiser_required, require_meeting


def _may_manage(meeting_id) -> None:
    """403 unless the signed-in organiser manages this meeting (administrators manage all)."""
    require_meeting(str(meeting_id))


def install(bp: Blueprint) -> None:
    """Every request of ``bp`` needs a signed-in organiser (401, or a redirect to the sign-in page), and one
    that names a meeting needs the assignment to it, before any form is read."""
    bp.before_request(organiser_required)

    @bp.before_request
    def _assigned_to_the_meeting():
        meeting_id = (request.view_args or {}).get("meeting_id")
        if meeting_id is not None:
            _may_manage(meeting_id)
