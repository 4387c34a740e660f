"""#11 in a real browser: every kind of page runs under the Content-Security-Policy (no violation in the
console, scripts work: select2 boxes, date pickers, tabs), and no other site may frame the app."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

PAGES = [
    ("start", "/"),
    ("partner-liste", "/partner/list/"),
    ("partner-anlegen", "/partner/add"),
    ("fallakten", "/case/list/"),
    ("doku", "/documentation/"),
    ("arbeitsliste", "/worklist/"),
    ("swagger", "/swagger/v1"),
    ("nicht-gefunden", "/gibt/es/nicht"),
]


def test_pages_run_under_the_csp(page_for, live_server, shoot):
    page = page_for("admin")
    partner_id = live_server.query("SELECT id FROM partner ORDER BY id LIMIT 1")[0][0]
    case_id = live_server.query("SELECT id FROM \"case\" ORDER BY id LIMIT 1")[0][0]
    pages = [*PAGES, ("partner-detail", f"/partner/show/{partner_id}"), ("partner-bearbeiten",
                                                                          f"/partner/edit/{partner_id}"),
             ("fallakte", f"/case/show/{case_id}")]
    for name, url in pages:
        response = page.goto(f"{live_server.url}{url}")
        assert response is not None
        csp = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "'nonce-" in csp, url
        page.wait_for_load_state("networkidle")
        shoot(page, f"csp-{name}")
    # Scripts of the pages really ran under the policy: the partner form's select2 boxes were built.
    page.goto(f"{live_server.url}/partner/add")
    assert page.locator(".select2-container").count() > 0
    assert not page.js_errors, page.js_errors
    assert not page.csp_violations, page.csp_violations


def test_another_site_cannot_frame_the_app(page_for, live_server):
    page = page_for("sb_nord")
    page.set_content(f'<iframe id="f" src="{live_server.url}/partner/list/"></iframe>')
    page.wait_for_timeout(1500)
    frame = page.frame_locator("#f")
    assert frame.locator("table").count() == 0  # blocked: nothing of the app inside the frame
    page.csp_violations.clear()  # the refused frame is reported in the console; that is the point
