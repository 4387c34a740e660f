"""Letters: .docx templates rendered with docxtpl in a Jinja sandbox, archived with their SHA-256.

Modules, one concern each:
    placeholders.py  what a template may print (and ``Missing``)
    context.py       the plain-dict context: address block (DIN 5008), salutation, letterhead, case data
    check.py         the upload check of a template (file, syntax, allow-list)
    render.py        the sandbox and ``render_docx``; ``validate_template``
    storage.py       files under <instance>/files, written once, read back only if the SHA-256 holds
    versions.py      templates and versions; ``seed_letter_templates``
    sources.py       the context of a case's letter from the database (org-unit rule applies)
    pdf.py           PDF through LibreOffice headless, when installed
    archive.py       ``generate_letter``, ``letter_file``, ``generate_series``
    series.py        series letters as polled jobs
    forms.py         typed-in values (appointment, court, notice)
    views.py, admin_views.py   the pages
"""
from __future__ import annotations

from ..web import menus

# Letters come from documentation entries: their pages sit in its menu (a menu bar of its own would wrap).
LETTERS_MENU = menus.DOCUMENTATION_CATEGORY
ADMIN_MENU = menus.ADMIN


def register_letters(app, appbuilder) -> None:
    """Tables, pages, menus and permissions of the letters subsystem (called once from create_app)."""
    from flask import Blueprint

    from . import models  # noqa: F401  (tables on FAB's metadata: migrate() creates them)
    from .admin_views import LetterTemplateAdminView, MyLetterheadView, OfficeDetailsView, StaffDetailsView
    from .storage import install
    from .views import LetterView

    install()
    app.register_blueprint(Blueprint("letters_pages", __name__, template_folder="templates"))
    appbuilder.add_view(LetterView, icon="fa-envelope", category_icon="fa-envelope",
                        **menus.item(menus.LETTER_SERIES, LETTERS_MENU))
    appbuilder.add_view(MyLetterheadView, icon="fa-id-card", **menus.item(menus.MY_LETTERHEAD, LETTERS_MENU))
    appbuilder.add_view(LetterTemplateAdminView, icon="fa-file-word-o", category_icon="fa-cogs",
                        **menus.item(menus.LETTER_TEMPLATES, ADMIN_MENU))
    appbuilder.add_view(StaffDetailsView, icon="fa-id-card-o", **menus.item(menus.STAFF_DETAILS, ADMIN_MENU))
    appbuilder.add_view(OfficeDetailsView, icon="fa-building-o", **menus.item(menus.OFFICE_DETAILS, ADMIN_MENU))
