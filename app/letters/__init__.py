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
    entries.py       the documentation entry a letter stands for

The pages are web code: app/web/letter_views.py, letter_admin_views.py (registered by ``register_letters``
there). This package imports no Flask view code, so services may use it.
"""
