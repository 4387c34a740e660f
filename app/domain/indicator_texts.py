"""The wording of QS 1.1–1.5 as the Berlin agreement puts it (Zielvereinbarung, 2.2), for pages and forms."""
from __future__ import annotations

from typing import NamedTuple


class IndicatorText(NamedTuple):
    title: str        # the quality standard's name
    indicator: str    # "Indikator": what the numerator counts
    denominator: str  # from "Messgröße": what the numerator is set against


INDICATOR_TEXTS: dict[str, IndicatorText] = {
    "1.1": IndicatorText(
        "Sofortiges Tätigwerden bei Räumungsklagen",
        "Anzahl der Fälle, bei denen unter oder gleich drei Arbeitstage zwischen Zugang der Mitteilung der "
        "Amtsgerichte über Räumungsklagen und Tätigwerden der Fachstelle vergangen sind.",
        "Gesamtanzahl der Mitteilungen der Amtsgerichte zu Räumungsklagen"),
    "1.2": IndicatorText(
        "Aktive Kontaktaufnahme durch aufsuchende Arbeit",
        "Anzahl der Fälle, in denen bei nicht erfolgter Reaktion auf das Anschreiben mindestens ein Hausbesuch "
        "innerhalb von 10 Tagen erfolgt.",
        "alle Fälle ohne Reaktion auf das Anschreiben"),
    "1.3": IndicatorText(
        "Sofortiges Tätigwerden – Anschreiben Zwangsräumungen",
        "Anzahl der Fälle, bei denen unter oder gleich drei Arbeitstage zwischen Zugang der Mitteilung der/s "
        "Gerichtsvollzieher*in und Tätigwerden der Fachstelle vergangen sind.",
        "Gesamtanzahl der Räumungsmitteilungen durch die Gerichtsvollzieher*innen"),
    "1.4": IndicatorText(
        "Begleitung Zwangsräumungen",
        "Anzahl der Zwangsräumungen mit Anwesenheit durch die Fachstelle in Fällen ohne vorherigen Kontakt der "
        "Klientel zur Fachstelle.",
        "Gesamtanzahl der Zwangsräumungen ohne vorherigen Kontakt zur Fachstelle"),
    "1.5": IndicatorText(
        "Einheitlicher Zugang zu den Sozialen Wohnhilfen",
        "Anzahl der Standards, die von einem Bezirk eingehalten werden.",
        "Gesamtanzahl der vorgegebenen sieben Standards"),
}
