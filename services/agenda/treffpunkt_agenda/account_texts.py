"""English versions of the German texts of the sign-in and account pages and messages.

The app's one catalogue (``i18n.install``) holds them, together with any other texts of the agenda; the
views translate through that catalogue, so they need not know which module defines which text.
"""
from flask import current_app, request


def api_language() -> str:
    """JSON clients choose with Accept-Language; German unless they prefer English."""
    return request.accept_languages.best_match(["de", "en"], default="de")


def translate(text: str, language: str) -> str:
    return current_app.extensions["treffpunkt_catalog"].gettext(text, language)


def translate_errors(errors, language: str):
    return current_app.extensions["treffpunkt_catalog"].translate_errors(errors, language)


ENGLISH = {
    # layout
    "Organisation": "Organisers",
    "Navigation": "Navigation",
    "Zum Inhalt springen": "Skip to content",
    "Mein Konto": "My account",
    "Konten": "Accounts",
    "Abmelden": "Sign out",
    "Fehler": "Error",
    "Fehler im Formular": "Errors in the form",
    "Seite nicht gefunden": "Page not found",
    "Kein Zugriff": "Access denied",
    "Zur Startseite": "To the start page",
    # sign-in and sign-out
    "Anmelden": "Sign in",
    "Für Organisatorinnen und Organisatoren von Treffen.": "For the organisers of meetings.",
    "Sie sind abgemeldet.": "You have signed out.",
    "E-Mail-Adresse": "Email address",
    "Passwort": "Password",
    "Bitte geben Sie Ihre E-Mail-Adresse an.": "Please enter your email address.",
    "Bitte geben Sie Ihr Passwort an.": "Please enter your password.",
    "E-Mail-Adresse oder Passwort ist falsch.": "Email address or password is wrong.",
    "Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in {minutes} Minuten noch einmal.":
        "Too many failed sign-in attempts. Please try again in {minutes} minutes.",
    "Angemeldet als": "Signed in as",
    "Jetzt abmelden": "Sign out now",
    "Sie werden überall abgemeldet: auf allen Geräten, in allen Diensten und für jeden Zugang über die "
    "Programmierschnittstelle.":
        "You will be signed out everywhere: on every device, in every service and for every API access.",
    # account pages
    "Name": "Name",
    "Rolle": "Role",
    "Status": "Status",
    "Treffen": "Meeting",
    "Alle Treffen": "All meetings",
    "Ihre Treffen": "Your meetings",
    "Ihnen ist noch kein Treffen zugeordnet.": "No meeting has been assigned to you yet.",
    "Es gibt noch keine Treffen.": "There are no meetings yet.",
    "Konten verwalten": "Manage accounts",
    "Alle Konten von Organisatorinnen, Organisatoren und Administration":
        "All accounts of organisers and administrators",
    "Neues Konto anlegen": "Create an account",
    "Konto anlegen": "Create account",
    "Erstes Passwort": "First password",
    "Mindestens 12 Zeichen. Geben Sie es der Person auf sicherem Weg weiter.":
        "At least 12 characters. Pass it on to the person securely.",
    "verwaltet alle Treffen und alle Konten": "manages all meetings and all accounts",
    "verwaltet nur die Treffen, denen sie oder er zugeordnet ist": "manages only the meetings assigned to them",
    "Das Konto wurde angelegt.": "The account has been created.",
    "Konto deaktivieren": "Deactivate account",
    "Konto aktivieren": "Activate account",
    "aktiv": "active",
    "deaktiviert": "deactivated",
    "Zugeordnete Treffen": "Assigned meetings",
    "Administratorinnen und Administratoren verwalten alle Treffen.": "Administrators manage all meetings.",
    "Keine.": "None.",
    "Zuordnung entfernen": "Remove assignment",
    "Treffen zuordnen": "Assign a meeting",
    "Zuordnen": "Assign",
    "Zurück zu den Konten": "Back to the accounts",
    "Bitte wählen Sie ein Treffen aus.": "Please choose a meeting.",
    "Sie können Ihr eigenes Konto nicht deaktivieren.": "You cannot deactivate your own account.",
    # roles and meeting states
    "Administrator/-in": "Administrator",
    "Organisator/-in": "Organiser",
    "Entwurf": "draft",
    "veröffentlicht": "published",
    "geschlossen": "closed",
    "archiviert": "archived",
    "abgesagt": "cancelled",
    # validation and API messages
    "Pflichtfeld.": "Required.",
    "Bitte einen Text eingeben.": "Please enter text.",
    "Unbekanntes Feld.": "Unknown field.",
    "Erwartet wird ein JSON-Objekt.": "A JSON object is expected.",
    "Bitte geben Sie eine gültige E-Mail-Adresse an.": "Please enter a valid email address.",
    "Die E-Mail-Adresse ist zu lang.": "The email address is too long.",
    "Bitte einen Namen mit 1 bis 200 Zeichen angeben.": "Please give a name of 1 to 200 characters.",
    "Bitte keine Zeilenumbrüche oder Steuerzeichen verwenden.": "Please do not use line breaks or control characters.",
    "Unbekannte Rolle.": "Unknown role.",
    "Bitte true oder false angeben.": "Please give true or false.",
    "Das Passwort muss mindestens 12 Zeichen lang sein.": "The password must be at least 12 characters long.",
    "Das Passwort darf höchstens 1024 Zeichen lang sein.": "The password must be at most 1024 characters long.",
    "Mit dieser E-Mail-Adresse gibt es bereits ein Konto.": "There already is an account with this email address.",
    "Dieses Konto gibt es nicht.": "No such account.",
    "Dieses Treffen gibt es nicht.": "No such meeting.",
    "Sie können Ihr eigenes Konto nicht deaktivieren oder herabstufen.":
        "You cannot deactivate or demote your own account.",
}
