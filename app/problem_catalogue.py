"""Every problem id the application reports: one id, one meaning, one German title.

``docs/spec-checks.md`` is generated from this list (``fachstelle problems-doc``); a test checks that
every id written in ``app/`` is listed here and every id listed here is used (an id registered before its
first user lands goes into ``RESERVED`` until then). A new check gets a new id; an id whose
meaning changes is a new id, never a reused one.
"""
from __future__ import annotations

from .problems import Level, ProblemType, register

CONFIG = "Konfiguration"
ROLES = "Berechtigungen"
IMPORT = "Import"
LETTERS = "Briefvorlagen"
SURVEY = "Erhebungsbogen"

# Areas in the order the generated page lists them, each with a sentence on where its problems come from.
AREAS = {
    CONFIG: "Die YAML-Dateien in `config/` und `config/cities/<stadt>/`; gemeldet von `fachstelle check-config` "
            "und beim Start, mit Datei, Zeile und YAML-Pfad.",
    ROLES: "Die Profile in `roles.yaml`, geprüft gegen die Seiten und Funktionen, die die Anwendung tatsächlich "
           "anbietet; gemeldet von `fachstelle check-config` und beim Start, mit Datei und Zeile in `roles.yaml`.",
    IMPORT: "Importdateien (CSV); gemeldet mit Datei, Zeile und Spalte. Nichts wird halb geschrieben.",
    LETTERS: "Hochgeladene Word-Vorlagen und Briefe, die aus ihnen entstehen; gemeldet mit Vorlage und Absatz.",
    SURVEY: "Erhebungsbögen der Bezirke (XLSX oder JSON von `fachstelle indicators`), die "
            "`fachstelle indicators-aggregate` zusammenführt; gemeldet mit Datei und Zeile.",
}

# Registered before the code that reports them lands (see the test); empty when every id is in use.
RESERVED: set[str] = set()


def _types(area: str, *rows: tuple[str, str] | tuple[str, str, Level]) -> list[ProblemType]:
    return [ProblemType(row[0], area, row[1], *row[2:]) for row in rows]


register(*_types(
    CONFIG,
    # Reading the files and merging the city overlay
    ("spec.E001", "YAML-Syntaxfehler (Einrückung, Doppelpunkt, Anführungszeichen …)"),
    ("spec.E002", "Datei nicht lesbar (Zugriffsrechte, keine UTF-8-Kodierung)"),
    ("spec.E003", "Schlüssel steht in einer Zuordnung doppelt"),
    ("spec.E004", "Datei enthält keine Zuordnung (Schlüssel: Wert)"),
    ("spec.E005", "Stadt-Overlay (FACHSTELLE_CITY) nicht gefunden"),
    ("spec.E006", "`remove_fields` nennt ein Feld, das die Entität nicht hat"),
    ("spec.E007", "Pflichtdatei `entities.yaml` fehlt"),
    ("spec.E008", "`remove_fields` ist keine Liste"),
    # Keys and values (the typed spec)
    ("spec.E010", "Unbekannter Schlüssel (Tippfehler?)"),
    ("spec.E011", "Pflichtangabe fehlt"),
    ("spec.E012", "Wert ist keiner der erlaubten (z. B. Feldtyp, Zugriffsstufe)"),
    ("spec.E013", "Ungültiger Name (nur a–z, 0–9 und _, beginnt mit Buchstaben)"),
    ("spec.E014", "Wert hat den falschen Typ (Text, Zahl, ja/nein, Liste …)"),
    ("spec.E015", "Text ist zu lang für seine Datenbankspalte"),
    ("spec.E016", "Zahl liegt außerhalb des erlaubten Bereichs"),
    ("spec.E019", "Sonstiger ungültiger Wert"),
    # Names
    ("spec.E101", "Entität ist doppelt definiert"),
    ("spec.E102", "Feld ist in einer Entität doppelt definiert"),
    ("spec.E103", "Feldname ist reserviert (legt das System selbst an)"),
    # Fields
    ("spec.E110", "Verweisfeld (ref) ohne Ziel"),
    ("spec.E111", "Verweisfeld nennt eine unbekannte Entität"),
    ("spec.E112", "`ref` an einem Feld, das kein Verweisfeld ist"),
    ("spec.E113", "Auswahlfeld ohne Katalog"),
    ("spec.E114", "Auswahlfeld nennt einen unbekannten Katalog"),
    ("spec.E115", "`catalogue` an einem Feld, das kein Auswahlfeld ist"),
    ("spec.E116", "`length` an einem Feld, das kein Textfeld ist"),
    ("spec.E117", "Ungültiger regulärer Ausdruck (`regex`)"),
    ("spec.E118", "`min`/`max` an einem Feld, das kein Zahlenfeld ist"),
    ("spec.E119", "Straßenauswahl an einem Feld, das kein Textfeld ist"),
    ("spec.E125", "Pflichtfeld ist ausgeblendet (kein Datensatz ließe sich speichern)"),
    # Lists of fields and links between entities
    ("spec.E120", "Feldliste (Spalten, Suche, Titel, Sortierung, Reiter, Indizes, Eindeutigkeit) nennt ein "
                  "unbekanntes Feld"),
    ("spec.E121", "Verknüpfte Liste (`related`) nennt eine unbekannte Entität"),
    ("spec.E122", "Verknüpfte Liste ohne Verweisfeld auf die Elternentität"),
    ("spec.E123", "`parent` nennt eine unbekannte Entität"),
    ("spec.E124", "Unterseite ohne Verweisfeld auf ihre Elternentität"),
    # Profiles, offices, catalogues
    ("spec.E130", "Profil nennt eine unbekannte Entität"),
    ("spec.E131", "Profil ist doppelt definiert"),
    ("spec.E132", "Dienststelle ist doppelt definiert"),
    ("spec.E133", "Wert ist in einem Katalog doppelt"),
    ("spec.E134", "Katalog ist doppelt definiert"),
    # The core contract of the domain code
    ("spec.E140", "Entität des Kernvertrags fehlt"),
    ("spec.E141", "Feld des Kernvertrags fehlt oder wurde entfernt"),
    ("spec.E142", "Feld des Kernvertrags hat den falschen Typ"),
    ("spec.E143", "Katalog des Kernvertrags fehlt"),
    # The service catalogue (services.yaml)
    ("spec.E150", "Leistung ist doppelt definiert"),
    ("spec.E151", "Leistung nennt einen unbekannten Katalogwert"),
    ("spec.E152", "Leistung endet (`active_to`) vor ihrem Beginn (`active_from`)"),
    # --- Datenschutz (#15): Aufbewahrungsfristen ---
    ("spec.E160", "Aufbewahrungsregel nennt ein unbekanntes Feld"),
    ("spec.E161", "Aufbewahrungsregel: Feld hat den falschen Typ (Datum bzw. ja/nein)"),
))

register(*_types(
    ROLES,
    ("roles.E001", "Admin-Funktion eines Profils: keine registrierte Seite bietet ihre Berechtigung an"),
    ("roles.E002", "Zugriffsstufe eines Profils: die zugehörige Seite (z. B. Arbeitsliste) ist nicht registriert"),
    ("roles.E003", "Grundrechte jedes Profils (eigenes Konto, Passwort, Menü): Seite nicht registriert"),
))

register(*_types(
    IMPORT,
    ("import.E001", "Datei nicht lesbar (Kodierung, Trennzeichen, kein CSV)"),
    ("import.E002", "Pflichtspalte fehlt in der Kopfzeile"),
    ("import.E003", "Ungültiger Wert in einer Spalte (Datum, Betrag, Auswahl …)"),
    ("import.E004", "Verweis auf einen unbekannten Datensatz (Person, Fallakte, Dienststelle …)"),
    ("import.E005", "Zeile steht doppelt in der Datei"),
    ("import.W001", "Zeile wurde schon früher importiert und wird übersprungen", Level.WARNING),
))

register(*_types(
    LETTERS,
    ("letter.E001", "Vorlagendatei ist leer"),
    ("letter.E002", "Vorlagendatei ist zu groß"),
    ("letter.E003", "Datei ist keine Word-Datei (.docx)"),
    ("letter.E004", "Word-Datei ist entpackt zu groß"),
    ("letter.E005", "Vorlage enthält Makros (.docm)"),
    ("letter.E006", "Word-Datei lässt sich nicht öffnen (beschädigt)"),
    ("letter.E010", "Syntaxfehler in der Platzhalter-Schreibweise"),
    ("letter.E011", "Anweisung ist in Briefvorlagen nicht erlaubt ({% set %}, {% macro %}, Funktionsaufrufe …)"),
    ("letter.E012", "Filter ist in Briefvorlagen nicht erlaubt"),
    ("letter.E013", "Prüfung (`is …`) ist in Briefvorlagen nicht erlaubt"),
    ("letter.E014", "Ausdruck ist in Briefvorlagen nicht erlaubt"),
    ("letter.E015", "Unbekannter Platzhalter"),
    ("letter.E016", "Platzhaltergruppe statt eines Platzhalters"),
    ("letter.E017", "Zugriff auf interne Bestandteile (`_…`, `[…]`, `loop.…`) ist nicht erlaubt"),
    ("letter.E018", "Schleife ist nicht erlaubt (zu tief, rekursiv oder nicht über eine Liste)"),
    ("letter.E020", "Für einen Brief fehlt ein Wert, den die Vorlage ausgibt (z. B. Anschrift, Termin)"),
    ("letter.E021", "Vorlage ließ sich beim Ausfüllen nicht verarbeiten (Sandbox, Platzhalter, Syntax)"),
    ("letter.E022", "Probebrief mit Beispieldaten ließ sich beim Hochladen nicht erzeugen"),
    ("letter.E023", "Ein Brief einer Serie ließ sich nicht erzeugen (Vorlage oder Brief nicht verfügbar)"),
))

register(*_types(
    SURVEY,
    ("survey.E001", "Datei nicht gefunden"),
    ("survey.E002", "Keine lesbare XLSX-Datei"),
    ("survey.E003", "Kein Erhebungsbogen der Fachstelle (Datenblatt oder Kennung fehlt)"),
    ("survey.E004", "Spaltenköpfe des Datenblatts fehlen oder sind verändert"),
    ("survey.E005", "JSON-Datei ist kein Bericht von `fachstelle indicators --format json`"),
    ("survey.E006", "Zahl ist keine ganze Zahl ≥ 0"),
    ("survey.E007", "Datum ist kein Datum (JJJJ-MM-TT)"),
    ("survey.E008", "Dienststelle fehlt in einer Zeile"),
    ("survey.E009", "Unbekannte Kennzahl"),
    ("survey.E010", "Zähler ist größer als Nenner"),
    ("survey.E011", "Zeitraum oder Stichtag weicht von den übrigen Zeilen der Datei ab"),
    ("survey.E012", "Bezirk und Kennzahl stehen doppelt in der Datei"),
    ("survey.E013", "Erhebungsbogen enthält keine Zahlen"),
    ("survey.E014", "Für einen Bezirk fehlen Kennzahlen"),
    ("survey.E015", "Keine Erhebungsbögen angegeben"),
    ("survey.E016", "Zeitraum passt nicht zu den anderen Erhebungsbögen"),
    ("survey.E017", "Bezirk steht in zwei Erhebungsbögen"),
))
