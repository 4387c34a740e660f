"""What is measured: each app page with its plain reference, as the clerk of one unit sees them."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote

from .dataset import CLERK, Bench


@dataclass(frozen=True)
class Page:
    name: str            # the --only key
    label: str           # German, for BENCHMARKS.md
    app_url: str
    ref_url: str | None
    ids: str | None = None  # how to compare the records both return: "html:<route>" or "json"


def _rison_prefix(column: str, value: str) -> str:
    return quote(f"(filters:!((col:{column},opr:sw,value:{value})),order_column:{column},order_direction:asc)",
                 safe="(),:!")


def pages(bench: Bench) -> list[Page]:
    prefix = bench.prefix
    surname, first_name, birth = bench.duplicate_probe
    birth_text = birth.strftime("%d.%m.%Y")
    dup_args = f"surname={quote(surname)}&first_name={quote(first_name)}&birth_date={birth_text}"
    case_pages = ",".join(readable_pages(bench, "case"))
    return [
        Page("partner_list", "Partnerliste, Seite 1 (25 Zeilen)", "/partner/list/",
             "/_bench/list/partner", "html:partner"),
        Page("partner_list_prefix", f"Partnerliste, Name beginnt mit „{prefix}“",
             f"/partner/list/?_flt_0_surname={quote(prefix)}",
             f"/_bench/list/partner?prefix_field=surname&prefix={quote(prefix)}", "html:partner"),
        Page("partner_list_date", "Partnerliste nach Geburtsdatum absteigend",
             "/partner/list/?_oc_PartnerView=birth_date&_od_PartnerView=desc",
             "/_bench/list/partner?order=birth_date&dir=desc", "html:partner"),
        Page("case_list", "Fallaktenliste, Seite 1 (25 Zeilen)", "/case/list/", "/_bench/list/case", "html:case"),
        Page("case_list_prefix", f"Fallaktenliste, Aktenzeichen beginnt mit „{bench.case_prefix}“",
             f"/case/list/?_flt_0_file_number={quote(bench.case_prefix, safe='')}",
             f"/_bench/list/case?prefix_field=file_number&prefix={quote(bench.case_prefix, safe='')}", "html:case"),
        Page("case_list_date", "Fallaktenliste nach Fallbeginn aufsteigend",
             "/case/list/?_oc_CaseView=opened_on&_od_CaseView=asc",
             "/_bench/list/case?order=opened_on&dir=asc", "html:case"),
        Page("case_show", "Fallakte mit ihren Seiten anzeigen", f"/case/show/{bench.case_id}",
             f"/_bench/show/case/{bench.case_id}?pages={case_pages}", None),
        Page("api_partner_list", "REST: Partnerliste", "/api/v1/partner/", "/_bench/api/partner/?order=surname",
             "json"),
        Page("api_partner_list_filter", f"REST: Partnerliste, Rison-Filter Name beginnt mit „{prefix}“",
             f"/api/v1/partner/?q={_rison_prefix('surname', prefix)}",
             f"/_bench/api/partner/?prefix_field=surname&prefix={quote(prefix)}&order=surname", "json"),
        Page("api_partner_get", "REST: ein Partner", f"/api/v1/partner/{bench.partner_id}",
             f"/_bench/api/partner/{bench.partner_id}", None),
        Page("duplicates_http", f"Dublettenprüfung /partner-duplicates ({surname}, {first_name})",
             f"/partner-duplicates?{dup_args}", f"/_bench/duplicates?{dup_args}", "json-results"),
    ]


def readable_pages(bench: Bench, entity_name: str) -> list[str]:
    """The area pages the clerk sees as tabs of a record: the YAML's ``related`` the profile may list.

    The reference shows the same pages as the app (it showed four of a case's nine once later issues
    had added documentation, tasks, appointments and the notices).
    """
    app = bench.app
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=CLERK)
        allowed = {(pv.permission.name, pv.view_menu.name) for role in user.roles for pv in role.permissions}
        related = app.config["FACHSTELLE_REGISTRY"].entity(entity_name).related
    return [name for name in related if ("can_list", f"entity_{name}") in allowed]


def tab_titles(html: str) -> list[str]:
    """The related pages' tab titles of a show page (app) or its ``<h2>`` headings (reference)."""
    tabs = re.findall(r'<a href="#(\w+)View" data-toggle="tab">([^<]*)', html)
    if tabs:
        return [title.strip() for _, title in tabs]
    return [t for t in re.findall(r"<h2>([^<]*)</h2>", html) if t != "Änderungsverlauf"]


def record_ids(kind: str | None, response) -> list[int] | None:
    """The records a response shows, in order, to prove that app and reference show the same ones."""
    if kind is None:
        return None
    if kind.startswith("html:"):
        found: list[int] = []
        for pk in re.findall(rf'/{kind[5:]}/show/(\d+)', response.get_data(as_text=True)):
            if int(pk) not in found:
                found.append(int(pk))
        return found
    data = json.loads(response.get_data(as_text=True))
    if kind == "json-results":
        return [r["id"] for r in data["results"]]
    return list(data["ids"])
