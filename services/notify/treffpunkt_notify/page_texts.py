"""English versions of the German texts on notify's organiser pages (``?lang=en``), the labels the pages
show for statuses and kinds of mail, and the texts the page code itself produces.

The mails are not translated here: each mail carries both languages (see ``emails.py``).
"""
from flask import Flask

from treffpunkt_shared.i18n import Catalog

from . import broadcast_drafts

MEETING_UNKNOWN = "Zu diesem Treffen liegen noch keine Daten vor."
BROADCAST_UNKNOWN = "Dieses Rundschreiben gibt es hier nicht."
ROUND_UNKNOWN = "Bitte wählen Sie eine Runde aus dem Programm."
AUTHORITY_UNKNOWN = "Bitte wählen Sie eine Behörde aus der Liste."

MAIL_STATUS = {"pending": "ausstehend", "sent": "versandt", "failed": "fehlgeschlagen"}
BROADCAST_STATUS = {"draft": "Entwurf", "queued": "wird versandt", "sent": "versandt"}
KIND_LABELS = {
    "registration_received": "Eingang der Anmeldung",
    "registration_confirmed": "Anmeldebestätigung",
    "registration_waitlisted": "Platz auf der Warteliste",
    "registration_promoted": "Nachgerückt von der Warteliste",
    "registration_updated": "Anmeldung geändert",
    "registration_cancelled": "Stornierung",
    "registration_link_requested": "Persönlicher Link",
    "agenda_published": "Programm veröffentlicht",
    "agenda_changed": "Programm geändert",
    "reminder": "Erinnerung",
    "round_results": "Ergebnisse einer Runde",
    "broadcast": "Rundschreiben an Teilnehmende",
    "organiser_digest": "Tagesübersicht",
    "organiser_mail_failed": "Warnung: E-Mail fehlgeschlagen",
}

catalog = Catalog({
    # texts of the page code and the broadcast form's validation
    MEETING_UNKNOWN: "notify knows nothing of this meeting yet.",
    BROADCAST_UNKNOWN: "There is no such broadcast here.",
    ROUND_UNKNOWN: "Please choose a round of the agenda.",
    AUTHORITY_UNKNOWN: "Please choose an authority from the list.",
    broadcast_drafts.AUDIENCE_MISSING: "Please choose whom the message is for.",
    broadcast_drafts.VALUE_MISSING: "Please name the round or authority.",
    broadcast_drafts.SUBJECT_MISSING: "Please enter a subject.",
    broadcast_drafts.NUL_NOT_ALLOWED: "The NUL character is not allowed.",
    broadcast_drafts.SUBJECT_TOO_LONG: "Please enter at most 200 characters.",
    broadcast_drafts.BODY_MISSING: "Please enter a text.",
    broadcast_drafts.BODY_TOO_LONG: "Please enter at most 20,000 characters.",
    broadcast_drafts.VALUE_TOO_LONG: "Please enter at most 300 characters.",
    "Treffen": "Meeting",
    "Teilnehmende der Runde": "Participants of the round",
    "Teilnehmende der Behörde": "Participants of the authority",
    "Warteliste": "Waiting list",
    "Alle Teilnehmenden des Treffens": "All participants of the meeting",
    # statuses and kinds
    "ausstehend": "pending", "versandt": "sent", "fehlgeschlagen": "failed",
    "Entwurf": "draft", "wird versandt": "being sent",
    "Eingang der Anmeldung": "Registration received",
    "Anmeldebestätigung": "Registration confirmed",
    "Platz auf der Warteliste": "Waiting list place",
    "Nachgerückt von der Warteliste": "Promoted from the waiting list",
    "Anmeldung geändert": "Registration changed",
    "Stornierung": "Cancellation",
    "Persönlicher Link": "Personal link",
    "Programm veröffentlicht": "Agenda published",
    "Programm geändert": "Agenda changed",
    "Erinnerung": "Reminder",
    "Ergebnisse einer Runde": "Results of a round",
    "Rundschreiben an Teilnehmende": "Broadcast to participants",
    "Rundschreiben": "Broadcasts",
    "Tagesübersicht": "Daily digest",
    "Warnung: E-Mail fehlgeschlagen": "Warning: email failed",
    # the pages
    "Alle E-Mails": "All emails",
    "Alle bestätigten Teilnehmenden des Treffens": "All confirmed participants of the meeting",
    "An das Organisationsteam": "To the organisers",
    "An wen?": "To whom?",
    "An": "To",
    "Anzeigen": "Show",
    "Ausstehend": "Pending",
    "Behörde": "Authority",
    "Betreff": "Subject",
    "Bitte wählen": "Please choose",
    "Das Rundschreiben wird jetzt versandt: an jede Person als eigene E-Mail.":
        "The broadcast is being sent now: to each person as an email of their own.",
    "Die Teilnehmenden einer Behörde": "The participants of one authority",
    "Die Teilnehmenden einer Runde": "The participants of one round",
    "Die Warteliste": "The waiting list",
    "Diese Auswahl erreicht niemanden; die Nachricht kann so nicht versandt werden.":
        "This choice reaches nobody; the message cannot be sent like this.",
    "Dieses Rundschreiben wurde bereits versandt; es wurde nicht noch einmal verschickt.":
        "This broadcast has already been sent; it was not sent again.",
    "E-Mail": "Email",
    "E-Mails an diese Person": "Emails to this person",
    "E-Mails des Treffens": "The meeting's emails",
    "E-Mails": "Emails",
    "E-Mails dieses Treffens": "This meeting's emails",
    "Ein Rundschreiben an Teilnehmende schreiben": "Write a broadcast to participants",
    "Empfänger": "Recipients",
    "Erstellt": "Created",
    "Es werden nur die ersten %(n)s E-Mails gezeigt.": "Only the first %(n)s emails are shown.",
    "Fehler im Formular": "Errors in the form",
    "Fehler": "Error",
    "Fehlgeschlagen": "Failed",
    "Fehlgeschlagene E-Mails ansehen": "See the emails that failed",
    "Grund": "Reason",
    "HTML-Fassung": "HTML version",
    "Hier für die erste Person der Liste.": "Shown here for the first person of the list.",
    "Hier mit Beispieldaten.": "Shown here with demo data.",
    "Jede E-Mail enthält zuerst den deutschen, dann den englischen Teil.":
        "Each email holds the German part first, then the English one.",
    "Jede E-Mail mit Beispieldaten ansehen": "See every email with demo data",
    "Jede Person erhält die Nachricht als eigene E-Mail. Vor dem Versand sehen Sie eine Vorschau und die Zahl der "
    "Empfänger.": "Each person gets the message as an email of their own. Before it is sent you see a preview and "
                 "the number of recipients.",
    "Jetzt an %(n)s Empfänger senden": "Send to %(n)s recipients now",
    "Keine E-Mails.": "No emails.",
    "Keine fehlgeschlagenen E-Mails.": "No failed emails.",
    "Neues Rundschreiben": "New broadcast",
    "Nicht gefunden": "Not found",
    "Noch keine Rundschreiben.": "No broadcasts yet.",
    "Noch keine Teilnehmenden angemeldet.": "No participants registered yet.",
    "Nur ausstehende": "Pending only",
    "Nur fehlgeschlagene": "Failed only",
    "Nur versandte": "Sent only",
    "Reiner Text. Die Anrede, einen englischen Hinweis auf Ihre Nachricht und den persönlichen Link fügt "
    "treffpunkt hinzu.": "Plain text. treffpunkt adds the salutation, an English note pointing to your message "
                         "and the personal link.",
    "Runde": "Round",
    "Rundschreiben dieses Treffens, neueste zuerst": "This meeting's broadcasts, newest first",
    "So sieht die E-Mail aus": "What the email looks like",
    "Status": "Status",
    "Tagesübersichten und Warnungen": "Daily digests and warnings",
    "Text": "Text",
    "Textfassung": "Plain text",
    "Versandt": "Sent",
    "Versuche": "Attempts",
    "Vorschau aller E-Mails": "Preview of every email",
    "Vorschau ansehen": "Preview",
    "Vorschau": "Preview",
    "Warum?": "Why?",
    "Was Sie hier tun können": "What you can do here",
    "Was an wen wann verschickt wurde, was fehlgeschlagen ist und warum. Ein Klick auf die Art der E-Mail zeigt sie "
    "mit Beispieldaten.": "What was sent to whom and when, what failed and why. Click the kind of email to see it "
                          "with demo data.",
    "Zeigen": "Show",
    "Zu diesem Treffen ist noch kein Programm mit Runden bekannt.":
        "No agenda with rounds is known for this meeting yet.",
    "Zum Inhalt springen": "Skip to content",
    "Zustellungen": "Deliveries",
    "Ändern (als neuer Entwurf)": "Change (as a new draft)",
    "Übersicht": "Overview",
    "Sprache": "Language",
})

# Texts the code hands to the pages (checked for an English version by the tests beside the templates' own).
CODE_TEXTS = (MEETING_UNKNOWN, BROADCAST_UNKNOWN, ROUND_UNKNOWN, AUTHORITY_UNKNOWN, broadcast_drafts.AUDIENCE_MISSING,
              broadcast_drafts.VALUE_MISSING, broadcast_drafts.SUBJECT_MISSING, broadcast_drafts.SUBJECT_TOO_LONG,
              broadcast_drafts.BODY_MISSING, broadcast_drafts.BODY_TOO_LONG, broadcast_drafts.VALUE_TOO_LONG, broadcast_drafts.NUL_NOT_ALLOWED,
              "Treffen", "Teilnehmende der Runde", "Teilnehmende der Behörde", "Warteliste",
              "Alle Teilnehmenden des Treffens", *MAIL_STATUS.values(), *BROADCAST_STATUS.values(),
              *KIND_LABELS.values())


def install_labels(app: Flask) -> None:
    app.jinja_env.globals.update(MAIL_STATUS=MAIL_STATUS, BROADCAST_STATUS=BROADCAST_STATUS, KIND_LABELS=KIND_LABELS)
