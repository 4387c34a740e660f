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

# Letters come from documentation entries: their pages sit in its menu (a menu bar of its own would wrap).
LETTERS_MENU = "Falldokumentation"
ADMIN_MENU = "Administration"


def register_letters(app, appbuilder) -> None:
    """Tables, pages, menus and permissions of the letters subsystem (called once from create_app)."""
    from flask import Blueprint

    from . import models  # noqa: F401  (tables on FAB's metadata: migrate() creates them)
    from .admin_views import LetterTemplateAdminView, MyLetterheadView, OfficeDetailsView, StaffDetailsView
    from .storage import install
    from .views import LetterView

    install()
    app.register_blueprint(Blueprint("letters_pages", __name__, template_folder="templates"))
    appbuilder.add_view(LetterView, "Serienbriefe", icon="fa-envelope", category=LETTERS_MENU,
                        category_icon="fa-envelope")
    appbuilder.add_view(MyLetterheadView, "Mein Briefkopf", icon="fa-id-card", category=LETTERS_MENU)
    appbuilder.add_view(LetterTemplateAdminView, "Briefvorlagen", icon="fa-file-word-o", category=ADMIN_MENU,
                        category_icon="fa-cogs")
    appbuilder.add_view(StaffDetailsView, "Briefkopf-Angaben", icon="fa-id-card-o", category=ADMIN_MENU)
    appbuilder.add_view(OfficeDetailsView, "Dienststellen-Briefkopf", icon="fa-building-o", category=ADMIN_MENU)
