"""Rows and labels of the printed NRW form (kommunal part, Stichtag 30.06.), shared by the XLSX, the page and
the comparison of versions. Pure: no I/O."""
from __future__ import annotations

from .housing_stats import NRW_ALLEINSTEHEND_GRUPPEN

STRUKTUR_LABELS = {
    "allein_maenner_ohne_kinder": "allein stehende Männer ohne Kind(er)",
    "allein_frauen_ohne_kinder": "allein stehende Frauen ohne Kind(er)",
    "allein_maenner_mit_kindern": "allein stehende Männer mit Kind(ern)",
    "allein_frauen_mit_kindern": "allein stehende Frauen mit Kind(ern)",
    "paare_ohne_kinder": "Paare ohne Kind(er)",
    "paare_mit_kindern": "Paare mit Kind(ern)",
    "sonstige_mehrpersonen": "sonstige Mehrpersonenhaushalte",
}
GROESSE_LABELS = {"1": "1 Person", "2": "2 Personen", "3": "3 Personen", "4": "4 Personen", "5": "5 Personen",
                  "6": "6 Personen", "mehr_als_6": "mehr als 6 Personen"}
ALTER_LABELS = {"unter_18": "unter 18", "18_21": "18 bis unter 21", "21_25": "21 bis unter 25",
                "25_30": "25 bis unter 30", "30_40": "30 bis unter 40", "40_50": "40 bis unter 50",
                "50_65": "50 bis unter 65", "65_plus": "65 und mehr"}
ALLEIN_LABEL = "davon Alleinstehende in eigenem Haushalt"
NAT_LABELS = {"deutsch_ohne_zuwanderung": "deutsch ohne Zuwanderungsgeschichte",
              "deutsch_mit_zuwanderung": "deutsch mit Zuwanderungsgeschichte",
              "nicht_deutsch": "nicht-deutsch", "keine_angabe": "keine Angabe"}

def form_rows(report: dict):
    """The form's rows in print order: (kind, label, path-of-insgesamt or None, path-of-weiblich or None).

    kind is "title" (a block heading), "row" or "sub" (an indented "davon" row). Paths are dotted keys into
    the report and the drill-down cells (``personen.alter.18_21.insgesamt``)."""
    yield "title", "Haushalte am 30.6. des Jahres", None, None
    yield "row", "Haushalte gesamt", "haushalte.gesamt", None
    yield "title", "Haushaltsstruktur", None, None
    for key, label in STRUKTUR_LABELS.items():
        yield "row", label, f"haushalte.struktur.{key}", None
    yield "title", "Haushaltsgröße", None, None
    for key, label in GROESSE_LABELS.items():
        yield "row", label, f"haushalte.groesse.{key}", None
    yield "title", "Personen", None, None
    yield "row", "Personen gesamt", "personen.gesamt.insgesamt", "personen.gesamt.weiblich"
    yield "title", "Alter (vollendete Jahre am Stichtag)", None, None
    for key, label in ALTER_LABELS.items():
        yield "row", label, f"personen.alter.{key}.insgesamt", f"personen.alter.{key}.weiblich"
        if key in NRW_ALLEINSTEHEND_GRUPPEN:
            yield ("sub", ALLEIN_LABEL, f"personen.alter.{key}.alleinstehend",
                   f"personen.alter.{key}.alleinstehend_weiblich")
    yield "title", "Staatsangehörigkeit und Zuwanderungsgeschichte der erwachsenen Personen", None, None
    for key, label in NAT_LABELS.items():
        yield ("row", label, f"personen.staatsangehoerigkeit_erwachsene.{key}.insgesamt",
               f"personen.staatsangehoerigkeit_erwachsene.{key}.weiblich")


def value_at(report: dict, path: str) -> int:
    node = report
    for part in path.split("."):
        node = node[part]
    return node
