"""English versions of the registration service's German texts."""
from treffpunkt_shared.i18n import Catalog

catalog = Catalog({
    # form errors
    "Bitte geben Sie Ihren Vornamen an.": "Please enter your first name.",
    "Bitte geben Sie Ihren Nachnamen an.": "Please enter your last name.",
    "Bitte geben Sie Ihre E-Mail-Adresse an.": "Please enter your email address.",
    "Bitte geben Sie eine gültige E-Mail-Adresse an.": "Please enter a valid email address.",
    "Die E-Mail-Adresse ist zu lang.": "The email address is too long.",
    "Bitte geben Sie Ihre Behörde oder Organisation an.": "Please enter your authority or organisation.",
    "Bitte stimmen Sie der Datenschutzerklärung zu.": "Please agree to the privacy notice.",
    "Bitte keine Zeilenumbrüche oder Steuerzeichen verwenden.": "Please do not use line breaks or control characters.",
    "Bitte höchstens 100 Zeichen eingeben.": "Please enter at most 100 characters.",
    "Bitte höchstens 200 Zeichen eingeben.": "Please enter at most 200 characters.",
    "Bitte einen Text eingeben.": "Please enter text.",
    "Unbekanntes Feld.": "Unknown field.",
    "Bitte ja oder nein angeben.": "Please answer yes or no.",
    "Mit dieser E-Mail-Adresse besteht bereits eine Anmeldung für dieses Treffen.":
        "There already is a registration for this meeting with this email address.",
    "Bitte prüfen Sie die markierten Felder.": "Please check the fields marked.",
    # pages
    "Anmeldung": "Registration",
    "Zur Anmeldung": "Register",
    "Offene Treffen": "Open meetings",
    "Derzeit ist keine Anmeldung offen.": "No registration is open at the moment.",
    "Datum": "Date",
    "Beginn": "Start",
    "Ort": "Venue",
    "Thema": "Theme",
    "Gastgeber": "Host",
    "Vorname": "First name",
    "Nachname": "Last name",
    "E-Mail-Adresse": "Email address",
    "Behörde / Organisation": "Authority / organisation",
    "Funktion": "Function",
    "optional": "optional",
    "Pflichtfeld": "required",
    "Ich habe die Datenschutzhinweise gelesen und stimme der Verarbeitung meiner Angaben zur Durchführung des Treffens zu.":
        "I have read the privacy notice and agree to my details being processed to run the meeting.",
    "Datenschutzhinweise": "Privacy notice",
    "Ihre Angaben werden nur zur Organisation dieses Treffens verwendet, nicht weitergegeben und nach dem Treffen gelöscht.":
        "Your details are used only to organise this meeting, are not passed on and are deleted after the meeting.",
    "Verbindlich anmelden": "Register",
    "Vielen Dank für Ihre Anmeldung": "Thank you for registering",
    "Ihr Platz ist bestätigt. Sie erhalten in Kürze eine Bestätigung per E-Mail.":
        "Your place is confirmed. You will receive a confirmation by email shortly.",
    "Das Treffen ist ausgebucht. Sie stehen auf der Warteliste auf Platz":
        "The meeting is fully booked. You are on the waiting list at position",
    "Wir informieren Sie per E-Mail.": "We will let you know by email.",
    "Für dieses Treffen ist keine Anmeldung möglich.": "Registration is not possible for this meeting.",
    "Dieses Treffen wurde abgesagt.": "This meeting has been cancelled.",
    "Die Anmeldung ist noch nicht geöffnet.": "Registration has not opened yet.",
    "Die Anmeldung ist geschlossen.": "Registration is closed.",
    "Seite nicht gefunden": "Page not found",
    "Fehler": "Error",
    "Zur Startseite": "To the start page",
    "Sprache": "Language",
    "Fehler im Formular": "Errors in the form",
    "Hauptinhalt": "Main content",
    "Zum Inhalt springen": "Skip to content",
    "freie Plätze": "places left",
    "Warteliste": "waiting list",
})
