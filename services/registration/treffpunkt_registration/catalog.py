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
    # the participant journey: opt-in, rounds, personal link
    "Anmelden": "Register",
    "Anmeldung bereits bestätigt": "Registration already confirmed",
    "Anmeldung stornieren": "Cancel registration",
    "Anmeldung stornieren …": "Cancel registration …",
    "Anmeldung ändern": "Change registration",
    "Aus der Liste wählen oder eintragen.": "Choose from the list or type it in.",
    "Barrierefreiheit (z. B. Rollstuhlplatz, Gebärdensprache)": "Accessibility (e.g. wheelchair space, sign language)",
    "Bis dahin ist ein Platz für Sie reserviert.": "Until then a place is reserved for you.",
    "Bitte bestätigen Sie Ihre Anmeldung": "Please confirm your registration",
    "Bitte bestätigen Sie Ihre Anmeldung über den Link in der E-Mail.":
        "Please confirm your registration with the link in the email.",
    "Bitte geben Sie eine Telefonnummer aus Ziffern an (z. B. 0611 817-0).":
        "Please enter a phone number in digits (e.g. 0611 817-0).",
    "Bitte wählen Sie je Zeitfenster höchstens eine Runde.": "Please choose at most one round per time slot.",
    "Bitte wählen Sie jede Runde nur einmal.": "Please choose each round only once.",
    "Das Treffen hat bereits begonnen; Änderungen sind nicht mehr möglich.":
        "The meeting has already begun; changes are no longer possible.",
    "Das Treffen ist ausgebucht; Sie können sich auf die Warteliste setzen lassen.":
        "The meeting is fully booked; you can join the waiting list.",
    "Der bisherige Link ist ab sofort ungültig. Den neuen persönlichen Link haben wir Ihnen per E-Mail geschickt.":
        "The previous link no longer works. We have sent you the new personal link by email.",
    "Der persönliche Link zu dieser Anmeldung wurde noch einmal per E-Mail verschickt.":
        "The personal link to this registration has been sent by email again.",
    "Diese Anmeldung gibt es nicht.": "This registration does not exist.",
    "Diese Anmeldung ist bereits storniert.": "This registration is already cancelled.",
    "Diese Anmeldung ist nicht mehr gültig.": "This registration is no longer valid.",
    "Diese Anmeldung ist storniert.": "This registration is cancelled.",
    "Diese Anmeldung kann nicht mehr geändert werden.": "This registration can no longer be changed.",
    "Diese Runde gibt es in diesem Programm nicht (mehr).": "This round is not (or no longer) in the programme.",
    "Diese Runde ist inzwischen ausgebucht. Bitte wählen Sie eine andere.":
        "This round has filled up meanwhile. Please choose another one.",
    "Dieser Link ist ungültig oder abgelaufen.": "This link is invalid or has expired.",
    "Diskussionsrunden und Workshops": "Discussion rounds and workshops",
    "Es ist kein Platz frei (oder das Kontingent der Behörde ist ausgeschöpft).":
        "No place is free (or the authority's quota is used up).",
    "Für diese Anmeldung kann kein neuer Link erstellt werden.": "No new link can be made for this registration.",
    "Gerade melden sich sehr viele Personen an. Bitte senden Sie das Formular noch einmal.":
        "Very many people are registering right now. Please send the form again.",
    "Ich bin einverstanden, dass auf dem Treffen Fotos gemacht werden, auf denen ich zu sehen bin, und dass sie in der Dokumentation des Treffens erscheinen.":
        "I agree that photos showing me may be taken at the meeting and appear in the meeting's documentation.",
    "Ihr Platz ist bestätigt.": "Your place is confirmed.",
    "Ihre Anmeldung": "Your registration",
    "Ihre Anmeldung ist bereits bestätigt. Den persönlichen Link zu Ihrer Anmeldung finden Sie in der Bestätigungs-E-Mail.":
        "Your registration is already confirmed. The personal link to your registration is in the confirmation email.",
    "Ihre Anmeldung ist storniert.": "Your registration is cancelled.",
    "Ihre Runden": "Your rounds",
    "Ihre Änderungen sind gespeichert.": "Your changes are saved.",
    "In den Kalender übernehmen (iCalendar)": "Add to calendar (iCalendar)",
    "Ja, Anmeldung stornieren": "Yes, cancel the registration",
    "Keine Auswahl": "No choice",
    "Möchten Sie Ihre Anmeldung für dieses Treffen wirklich stornieren? Ihr Platz geht dann an die nächste Person auf der Warteliste.":
        "Do you really want to cancel your registration for this meeting? Your place then goes to the next person on the waiting list.",
    "Name": "Name",
    "Neuen Link anfordern": "Request a new link",
    "Neuer Link verschickt": "New link sent",
    "Nur Anmeldungen auf der Warteliste können nachrücken.": "Only registrations on the waiting list can be promoted.",
    "Nur Anmeldungen mit Platz können auf die Warteliste gesetzt werden.":
        "Only registrations with a place can be moved to the waiting list.",
    "Persönlicher Link": "Personal link",
    "Plätze frei": "places free",
    "Programm": "Programme",
    "Programmpunkt": "Item",
    "Raum": "Room",
    "Sie erhalten danach eine E-Mail mit einem Link, mit dem Sie Ihre Anmeldung bestätigen.":
        "You will then receive an email with a link to confirm your registration.",
    "Sie sind bereits angemeldet": "You are already registered",
    "Sie stehen auf der Warteliste auf Platz": "You are on the waiting list at position",
    "Stand": "Status",
    "Stornieren": "Cancel",
    "Telefon": "Phone",
    "Verpflegung (z. B. vegetarisch, Allergien)": "Catering (e.g. vegetarian, allergies)",
    "Vielen Dank, Ihre Anmeldung ist bestätigt.": "Thank you, your registration is confirmed.",
    "Wer diesen Link kennt, kann Ihre Anmeldung ansehen und ändern. Wenn Sie ihn weitergegeben haben, können Sie ihn hier ungültig machen; Sie erhalten dann einen neuen per E-Mail.":
        "Whoever knows this link can see and change your registration. If you have passed it on, you can invalidate it here; you will then receive a new one by email.",
    "Wir haben Ihnen den persönlichen Link zu Ihrer Anmeldung noch einmal per E-Mail geschickt. Damit können Sie Ihre Anmeldung ansehen, ändern oder stornieren.":
        "We have sent you the personal link to your registration by email again. With it you can see, change or cancel your registration.",
    "Wir haben Ihnen eine E-Mail mit einem Bestätigungslink geschickt. Erst mit der Bestätigung ist Ihre Anmeldung gültig.":
        "We have sent you an email with a confirmation link. Your registration is valid only once you confirm it.",
    "Wir informieren Sie per E-Mail, sobald ein Platz frei wird.": "We will email you as soon as a place becomes free.",
    "Wunsch, noch ohne Platz": "wish, no place yet",
    "Zeit": "Time",
    "Zu viele Anmeldeversuche in kurzer Zeit. Bitte versuchen Sie es in einigen Minuten noch einmal.":
        "Too many registration attempts in a short time. Please try again in a few minutes.",
    "Zurück zu Ihrer Anmeldung": "Back to your registration",
    "ausgebucht": "fully booked",
    "Änderungen speichern": "Save changes",
    "Bitte höchstens 40 Zeichen eingeben.": "Please enter at most 40 characters.",
    "Bitte höchstens 500 Zeichen eingeben.": "Please enter at most 500 characters.",
    "Bitte wählen Sie die Runden aus der Liste.": "Please choose the rounds from the list.",
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
