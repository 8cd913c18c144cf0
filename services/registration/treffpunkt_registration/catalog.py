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
    # data protection (privacy.py, erase.html, erased.html, manage.html, the organisers' API)
    "Ihre Daten": "Your data",
    "Alle gespeicherten Daten herunterladen (JSON)": "Download all data stored (JSON)",
    "Meine Daten löschen …": "Erase my data …",
    "Ihre Daten löschen": "Erase your data",
    "Wir löschen Ihren Namen, Ihre E-Mail-Adresse, Telefonnummer, Funktion, Angaben zu Verpflegung und Barrierefreiheit, Ihre Rundenwahl und Anwesenheit sowie Ihre persönlichen Links. Auch der Versanddienst löscht seine Kopien Ihrer E-Mails.":
        "We erase your name, email address, phone number, function, dietary and accessibility needs, your choice of rounds, your attendance and your personal links. The mail service erases its copies of your emails too.",
    "Ihre Anmeldung wird dabei storniert; Ihr Platz geht an die nächste Person auf der Warteliste.":
        "Your registration is cancelled with it; your place goes to the next person on the waiting list.",
    "Erhalten bleibt nur ohne Namen, dass sich jemand Ihrer Behörde angemeldet hat (für die Statistik des Treffens). Die Löschung kann nicht rückgängig gemacht werden; dieser Link funktioniert danach nicht mehr. Sie erhalten keine E-Mail mehr zu dieser Anmeldung.":
        "All that remains, without a name, is that someone from your authority registered (for the meeting's figures). Erasure cannot be undone; this link stops working. You will receive no further email about this registration.",
    "Vorher Ihre Daten herunterladen (JSON)": "Download your data first (JSON)",
    "Ja, meine Daten endgültig löschen": "Yes, erase my data for good",
    "Zurück zu Ihrer Anmeldung": "Back to your registration",
    "Ihre Daten sind gelöscht": "Your data has been erased",
    "Ihre persönlichen Daten zu dieser Anmeldung wurden gelöscht. Ihr persönlicher Link funktioniert nicht mehr.":
        "Your personal data for this registration has been erased. Your personal link no longer works.",
    "Die Daten dieser Anmeldung sind bereits gelöscht.": "The data of this registration has already been erased.",
    "Diese Anmeldung gibt es bei diesem Treffen nicht.": "There is no such registration for this meeting.",
})
