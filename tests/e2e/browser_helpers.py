"""What a clerk does in the browser: find a control by its German label, pick from a type-ahead, type a date."""
from __future__ import annotations

import re


def field(page, label: str):
    """The form control labelled ``label`` (a trailing red * marks required fields)."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}:?\s*\*?\s*$"))


def choose(page, label: str, typed: str, option: str, screenshot=None) -> None:
    """Pick ``option`` in the select2 box labelled ``label`` by typing ``typed`` into its search."""
    select_id = field(page, label).get_attribute("id")
    page.locator(f"#{select_id} + .select2-container .select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    search.fill(typed)
    found = page.locator(".select2-container--open .select2-results__option", has_text=option).first
    found.wait_for()
    if screenshot:
        screenshot(page)
    found.click()
    page.locator(f"#{select_id} + .select2-container .select2-selection__rendered",
                 has_text=option).wait_for()


def type_date(page, label: str, value: str) -> None:
    """Dates are typed as TT.MM.JJJJ; Tab leaves the field and closes the date picker."""
    control = field(page, label)
    control.fill(value)
    control.press("Tab")


def page_text(page) -> str:
    """The visible text of the page once its document has been parsed.

    A click on a link returns when the next page has *started* loading; reading the body at that moment can give
    the new document's still-empty body (seen once in CI: an empty text right after the click on "Kataloge")."""
    page.wait_for_load_state("domcontentloaded")
    return page.locator("body").inner_text()


def assert_german_page(page) -> None:
    text = page_text(page)
    for leftover in ("None", "Select a State", "Cancel", "Save", "Search", "Record", "Add", "Edit"):
        assert not re.search(rf"\b{leftover}\b", text), f"englischer Rest/None auf {page.url}: {leftover!r}"
    assert not page.js_errors, page.js_errors
