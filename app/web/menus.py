"""Menu keys of the hand-written pages.

FAB names an item's permission (``menu_access``) after the item's *name*. The name is therefore a
stable English key and the German text only its *label*: renaming a label in ``LABELS`` changes what
clerks read, never which profile may see the item (``build_roles`` grants the keys). Categories that
come from the YAML (an entity's ``menu``, e.g. "Falldokumentation") keep their YAML name.
"""
from __future__ import annotations

WORKLIST = "worklist"
MY_CASES = "my_cases"
DOC_OVERVIEW = "doc_overview"
LAWSUIT_NOTICE = "lawsuit_notice"
EVICTION_NOTICE = "eviction_notice"
LETTER_SERIES = "letter_series"
MY_LETTERHEAD = "my_letterhead"
LETTER_TEMPLATES = "letter_templates"
STAFF_DETAILS = "staff_letterhead_details"
OFFICE_DETAILS = "office_letterhead"
CATALOGUES = "catalogues"
ORG_UNITS = "org_units"
STREETS = "streets"
PARTNER_MERGE = "partner_merge"
IMPORTS = "imports"
PROFILES = "profiles"
INDICATOR_REPORT = "indicator_report"
ACCESS_STANDARDS = "access_standards"
LOGIN_AUDIT = "login_audit"
# Official housing statistics (#14)
HOUSING_STATISTICS = "housing_statistics"
# --- Gebühren (#12) ---
FEE_RUN = "fee_run"
# Loans and the treasury (#13)
TREASURY = "treasury"
TREASURY_PAYMENTS = "treasury_payments"
TREASURY_CLEAR = "treasury_clear"
LOAN_REPORT = "loan_report"
LOANS_CATEGORY = "loans"
# Unterbringung (#12): the board (with lists and household pages behind it) and the utilisation
OCCUPANCY_BOARD = "occupancy_board"
UTILISATION = "utilisation"
# --- research module, exports, dashboard (#14) ---
RESEARCH = "research"
EXPORT_HISTORY = "export_history"
# --- Datenschutz und Betreuung (#15) ---
ACCESS_LOG = "access_log"
RETENTION_PROTOCOL = "retention_protocol"
SUBJECT_ACCESS = "subject_access"
PRIVACY = "Datenschutz"  # the YAML menu of erasure_request: the privacy pages sit in it
# The YAML menu of doc_entry: the documentation overview and the letters sit in it.
DOCUMENTATION_CATEGORY = "Falldokumentation"
# Categories of our own
ADMIN = "administration"
REPORTS = "reports"

LABELS = {
    WORKLIST: "Arbeitsliste",
    MY_CASES: "Meine Fälle",
    DOC_OVERVIEW: "Dokumentation (Übersicht)",
    LAWSUIT_NOTICE: "Räumungsklage erfassen",
    EVICTION_NOTICE: "Zwangsräumung erfassen",
    LETTER_SERIES: "Serienbriefe",
    MY_LETTERHEAD: "Mein Briefkopf",
    LETTER_TEMPLATES: "Briefvorlagen",
    STAFF_DETAILS: "Briefkopf-Angaben",
    OFFICE_DETAILS: "Dienststellen-Briefkopf",
    CATALOGUES: "Kataloge",
    ORG_UNITS: "Dienststellen",
    STREETS: "Straßenverzeichnis",
    PARTNER_MERGE: "Partner zusammenführen",
    IMPORTS: "Import",
    PROFILES: "Berechtigungsprofile",
    INDICATOR_REPORT: "Kennzahlen Prävention",
    ACCESS_STANDARDS: "Einheitlicher Zugang (QS 1.5)",
    LOGIN_AUDIT: "Anmeldeprotokoll",
    HOUSING_STATISTICS: "Amtliche Statistik",
    FEE_RUN: "Gebührenlauf",  # #12
    OCCUPANCY_BOARD: "Belegungsübersicht",
    UTILISATION: "Auslastung",
    RESEARCH: "Recherche",
    EXPORT_HISTORY: "Exporte (Verlauf)",
    ADMIN: "Administration",
    TREASURY: "Kasse: Export",
    TREASURY_PAYMENTS: "Kasse: Zahlungen einlesen",
    TREASURY_CLEAR: "Kasse: Klärfälle",
    LOAN_REPORT: "Offene Darlehen",
    LOANS_CATEGORY: "Darlehen",
    REPORTS: "Berichte",
    ACCESS_LOG: "Zugriffsprotokoll",
    RETENTION_PROTOCOL: "Aufbewahrung und Löschung",
    SUBJECT_ACCESS: "Auskunft (Art. 15 DSGVO)",
}


def item(key: str, category: str | None = None) -> dict:
    """Keyword arguments for ``add_view``/``add_link``: the key as name, the German label, and the
    category's label when the category is one of ours (a YAML category is its own label)."""
    kwargs = {"name": key, "label": LABELS[key]}
    if category is not None:
        kwargs.update(category=category, category_label=LABELS.get(category, category))
    return kwargs
