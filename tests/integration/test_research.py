"""The research module (#14 §3): filters of every field kind, grouping as a cross-table, saved and shared
queries, XLSX of the same definition — and the permission matrix: org units and pages, through the page."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.conftest import purge_entity_rows


# --- data: two units, cases with incomes and a social situation -----------------------------------------
@pytest.fixture(scope="module")
def data(app):
    from app.core_models import CatalogueValue, OrgUnit
    from app.extensions import db
    from app.services.history import acting_as
    registry = app.config["FACHSTELLE_REGISTRY"]
    with app.app_context():
        def value(catalogue, code):
            return db.session.query(CatalogueValue).filter_by(catalogue=catalogue, code=code).one()

        def unit(code):
            return db.session.query(OrgUnit).filter_by(code=code).one().id

        def make(entity, unit_code, **values):
            record = registry.model(entity)(**values)
            if hasattr(record, "org_unit_id"):
                record.org_unit_id = unit(unit_code) if unit_code else None
            db.session.add(record)
            return record

        person = value("partner_kind", "person")
        with acting_as("test"):
            cases = []
            for i, (unit_code, opened, status, amount) in enumerate([
                    ("nord", date(2025, 3, 1), "open", Decimal("1200.50")),
                    ("nord", date(2025, 7, 15), "open", Decimal("800.00")),
                    ("nord", date(2026, 1, 10), "closed", None),
                    ("sued", date(2025, 5, 5), "open", Decimal("999.99")),
                    ("sued", date(2026, 2, 2), "closed", Decimal("50.00"))]):
                client = make("partner", unit_code, kind=person, surname=f"=Klient{i}", first_name="Eva")
                case = make("case", unit_code, client=client, file_number=f"R-{unit_code}-{i}", opened_on=opened,
                            status=value("case_status", status), info=None if i % 2 else "Notiz")
                if amount is not None:
                    make("household_income", unit_code, case=case, income_type=value("income_type", "rente"),
                         amount=amount, valid_from=opened)
                make("social_situation", unit_code, case=case, person=client, info="geheim")
                cases.append(case)
            db.session.commit()
            ids = [c.id for c in cases]
        db.session.remove()
    yield {"cases": ids}  # outside the app context: each client request gets its own (see user_client)
    purge_entity_rows(app)


@pytest.fixture
def actx(app):
    """An app context that leaves the module's data alone (``ctx`` would purge it after each test)."""
    from app.extensions import db
    with app.app_context():
        yield app
        db.session.rollback()


def _fields(app, readable=None):
    from app.services.research import ResearchFields
    return ResearchFields(app.config["FACHSTELLE_REGISTRY"], lambda e: readable is None or e in readable)


def _actor(username):
    from flask_appbuilder.security.sqla.models import User

    from app.actor import actor_for_user
    from app.extensions import db
    return actor_for_user(db.session.query(User).filter_by(username=username).one())


def _run(app, definition, username="controlling_nord", readable=None):
    from app.extensions import db
    from app.services import research
    checked = research.check(definition, _fields(app, readable))
    registry = app.config["FACHSTELLE_REGISTRY"]
    if checked.definition.grouped:
        return research.run_grouped(db.session, checked, registry, _actor(username))
    return research.run_list(db.session, checked, registry, _actor(username))


def D(**kw):
    from app.services.research import Definition
    return Definition(entity="case", **kw)


def F(field, op, value=None, value2=None):
    from app.services.research import Filter
    return Filter(field, op, value, value2)


# --- filters of every kind, within the actor's units ------------------------------------------------------
@pytest.mark.parametrize("flt, expected", [
    (None, {"R-nord-0", "R-nord-1", "R-nord-2"}),
    (("opened_on", "between", "01.01.2025", "31.12.2025"), {"R-nord-0", "R-nord-1"}),
    (("opened_on", "before", "01.07.2025"), {"R-nord-0"}),
    (("opened_on", "after", "15.07.2025"), {"R-nord-2"}),
    (("opened_on", "eq", "15.07.2025"), {"R-nord-1"}),
    (("closed_on", "empty"), {"R-nord-0", "R-nord-1", "R-nord-2"}),
    (("closed_on", "not_empty"), set()),
    (("status", "in", ["closed"]), {"R-nord-2"}),
    (("status", "not_in", ["closed"]), {"R-nord-0", "R-nord-1"}),
    (("info", "empty"), {"R-nord-1"}),
    (("info", "contains", "NOTIZ"), {"R-nord-0", "R-nord-2"}),
    (("file_number", "starts", "r-nord-1"), {"R-nord-1"}),
    (("file_number", "eq", "R-SUED-3"), set()),  # another unit's case does not exist for nord
    (("household_income.amount", "ge", "1.000,00"), {"R-nord-0"}),
    (("household_income.amount", "between", "800", "1200,50"), {"R-nord-0", "R-nord-1"}),
    (("household_income.amount", "empty"), {"R-nord-2"}),
    (("clerk_user", "empty"), {"R-nord-0", "R-nord-1", "R-nord-2"}),
])
def test_filters_of_every_kind_within_the_units(actx, data, flt, expected):
    filters = [F(*flt)] if flt else []
    result = _run(actx, D(columns=["file_number"], filters=filters))
    assert {row[0] for row in result.rows} == expected


def test_bool_and_multichoice_filters(actx, data):
    result = _run(actx, D(columns=["file_number"], filters=[F("social_situation.addiction", "empty")]))
    assert {row[0] for row in result.rows} == {"R-nord-0", "R-nord-1", "R-nord-2"}
    result = _run(actx, D(columns=["file_number"], filters=[F("housing_emergency.energy_debts_only", "true")]))
    assert result.rows == []


@pytest.mark.parametrize("flt, message", [
    (("opened_on", "between", "31.02.2025", "01.03.2025"), "31.02.2025"),
    (("opened_on", "between", "01.03.2025", "01.01.2025"), "„bis“ liegt vor „von“"),
    (("household_income.amount", "gt", "zwölf"), "Betrag monatlich"),
    (("status", "in", ["gibtsnicht"]), "„gibtsnicht“ ist kein Wert dieser Liste"),
    (("status", "contains", "x"), "passt nicht zu diesem Feld"),
    (("nosuchfield", "empty"), "das Feld „nosuchfield“ gibt es"),
    (("file_number", "contains", ""), "bitte einen Wert"),
])
def test_bad_definitions_get_a_german_message(actx, data, flt, message):
    from app.services.research import ResearchError
    with pytest.raises(ResearchError) as found:
        _run(actx, D(columns=["file_number"], filters=[F(*flt)]))
    assert message in str(found.value)


def test_labels_sort_and_children(actx, data):
    result = _run(actx, D(columns=["file_number", "status", "client", "household_income.amount", "opened_on"],
                         sort="opened_on", descending=True))
    assert [row[0] for row in result.rows] == ["R-nord-2", "R-nord-1", "R-nord-0"]
    row = result.rows[1]
    assert row[1] == "offen" or isinstance(row[1], str)
    assert row[2].startswith("=Klient1")
    assert row[3] == Decimal("800.00") and row[4] == date(2025, 7, 15)


# --- grouping: the cross-table ---------------------------------------------------------------------------
def test_group_by_two_fields_counts_cases_once(actx, data):
    table = _run(actx, D(group_by=["opened_on:year", "status"]), username="controlling_nord")
    assert table.row_labels == ["2025", "2026"]
    assert table.total == 3
    by_label = dict(zip(table.row_labels, table.row_keys))
    closed = table.col_keys[table.col_labels.index(next(label for label in table.col_labels if label != "offen"))]
    assert table.row_totals[by_label["2025"]] == 2 and table.row_totals[by_label["2026"]] == 1
    assert table.cell(by_label["2026"], closed) == 1
    assert sum(table.col_totals.values()) == 3


def test_sum_and_average_of_money(actx, data):
    table = _run(actx, D(group_by=["status"], measure="sum", measure_field="household_income.amount"))
    assert table.total == Decimal("2000.50")
    table = _run(actx, D(group_by=["status"], measure="avg", measure_field="household_income.amount"))
    assert table.total == Decimal("1000.25")
    table = _run(actx, D(group_by=["opened_on:month"]), username="admin")
    assert table.row_labels == ["03/2025", "05/2025", "07/2025", "01/2026", "02/2026"] and table.total == 5


# --- the permission matrix: org units × pages, through the page and its export ---------------------------
SOCIAL = "social_situation.info"
MATRIX = [
    # user, may open the page, sees social situation fields, cases seen
    ("controlling_nord", True, False, {"R-nord-0", "R-nord-1", "R-nord-2"}),
    ("controlling_sued", True, False, {"R-sued-3", "R-sued-4"}),
    ("teamleitung_nord", True, True, {"R-nord-0", "R-nord-1", "R-nord-2"}),
    ("fachadmin_sued", True, True, {"R-sued-3", "R-sued-4"}),
    ("sachbearbeitung_nord", False, False, set()),
    ("sozialarbeit_nord", False, False, set()),
]


@pytest.mark.parametrize("user, allowed, social, cases", MATRIX)
def test_permission_matrix(app, data, user_client, user, allowed, social, cases):
    client = user_client(user)
    page = client.get("/research/?e=case&c=file_number&run=1")
    if not allowed:
        assert page.status_code in (302, 403)
        assert client.get("/research/export?e=case&c=file_number").status_code in (302, 403)
        return
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    shown = {c for c in ("R-nord-0", "R-nord-1", "R-nord-2", "R-sued-3", "R-sued-4") if c in html}
    assert shown == cases
    assert (f'value="{SOCIAL}"' in html) is social
    # A hand-made URL naming the field: refused exactly like a typo, when the page is not readable.
    answer = client.get(f"/research/?e=case&c=file_number&c={SOCIAL}&run=1").get_data(as_text=True)
    assert ("geheim" in answer) is social
    assert ("gibt es auf „Fallakte“ nicht" in answer) is (not social)
    export = client.get("/research/export?e=case&c=file_number&c=client")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.data)).worksheets[0]
    numbers = {sheet.cell(r, 1).value for r in range(4, sheet.max_row + 1)}
    assert numbers == cases
    assert sheet.cell(3, 1).value == "Aktenzeichen" and sheet.cell(3, 2).value == "Klient/in"
    grouped = client.get("/research/export?e=case&g1=status&m=count")
    table = load_workbook(io.BytesIO(grouped.data)).worksheets[0]
    assert table.cell(table.max_row, 1).value == "Gesamt" and table.cell(table.max_row, 2).value == len(cases)


def test_saved_query_shared_with_a_profile_is_checked_for_the_runner(app, data, user_client):
    from app.extensions import db
    from app.research_models import ResearchQuery
    lead = user_client("teamleitung_nord")
    saved = lead.post("/research/save", data={"e": "case", "c": ["file_number", SOCIAL], "name": "Sozial",
                                              "share": "Controlling"})
    assert saved.status_code == 302
    mine = lead.post("/research/save", data={"e": "case", "c": ["file_number"], "name": "Nur Akten"})
    assert mine.status_code == 302
    with app.app_context():
        queries = {q.name: q for q in db.session.query(ResearchQuery)}
        assert queries["Sozial"].shared_profile == "Controlling" and SOCIAL in queries["Sozial"].definition
        shared_id, own_id = queries["Sozial"].id, queries["Nur Akten"].id
    controller = user_client("controlling_sued")
    listing = controller.get("/research/").get_data(as_text=True)
    assert "Sozial" in listing and "Nur Akten" not in listing
    opened = controller.get(f"/research/?q={shared_id}", follow_redirects=True).get_data(as_text=True)
    assert "geheim" not in opened and "gibt es auf „Fallakte“ nicht" in opened
    assert "Nur Akten" not in controller.get(f"/research/?q={own_id}", follow_redirects=True).get_data(as_text=True)
    refused = controller.post(f"/research/delete/{shared_id}", follow_redirects=True).get_data(as_text=True)
    assert "Nur eigene Abfragen" in refused
    lead.post(f"/research/delete/{shared_id}")
    lead.post(f"/research/delete/{own_id}")
    with app.app_context():
        assert db.session.query(ResearchQuery).count() == 0


def test_export_is_in_the_history(app, data, user_client):
    from app.core_models import ChangeLog
    from app.extensions import db
    client = user_client("controlling_nord")
    client.get("/research/export?e=case&c=file_number&f0=status&o0=in&v0=open")
    with app.app_context():
        entry = db.session.query(ChangeLog).filter_by(entity="export").order_by(ChangeLog.id.desc()).first()
        assert entry.changed_by == "controlling_nord" and entry.field == "Recherche Fallakten"
        assert entry.new_value.startswith("2 Zeilen") and "Status ist einer von open" in entry.new_value


def test_export_history_page(app, data, user_client):
    user_client("controlling_nord").get("/research/export?e=case&c=file_number")
    page = user_client("fachadmin_nord").get("/exports/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "controlling_nord" in html and "Recherche Fallakten" in html
    assert user_client("sachbearbeitung_nord").get("/exports/").status_code in (302, 403)


def test_sum_and_average_without_child_pages_add_up_exactly(actx, data):
    # One GROUP BY (no child page): cells, totals and the average from sum and count, in Decimal.
    from app.domain.money import quantize
    from app.extensions import db
    from app.services.research import Definition
    model = actx.config["FACHSTELLE_REGISTRY"].model("service")
    values = [v for (v,) in db.session.query(model.follow_up_days) if v is not None]
    assert values, "die Leistungen haben Wiedervorlagen"
    summed = _run(actx, Definition(entity="service", group_by=["group"], measure="sum",
                                   measure_field="follow_up_days"), username="admin")
    assert summed.total == sum(values)
    assert sum(v for v in summed.row_totals.values() if v is not None) == sum(values)
    average = _run(actx, Definition(entity="service", group_by=["group"], measure="avg",
                                    measure_field="follow_up_days"), username="admin")
    from decimal import Decimal
    assert average.total == quantize(Decimal(sum(values)) / len(values))
    counted = _run(actx, Definition(entity="service", group_by=["group"]), username="admin")
    assert counted.total == db.session.query(model).count()


def test_a_reference_to_another_units_record_is_not_named(actx, data):
    # A household member of a Nord case who is a Süd partner: the row is Nord's, the partner stays unnamed.
    from app.core_models import CatalogueValue, OrgUnit
    from app.extensions import db
    from app.services.history import acting_as
    from app.services.research import Definition
    registry = actx.config["FACHSTELLE_REGISTRY"]
    partner, case, member = (registry.model(n) for n in ("partner", "case", "household_member"))
    sued = db.session.query(OrgUnit).filter_by(code="sued").one()
    stranger = partner(kind=db.session.query(CatalogueValue).filter_by(catalogue="partner_kind", code="person").one(),
                       surname="Fremdbezirk", org_unit_id=sued.id)
    nord_case = db.session.query(case).filter_by(file_number="R-nord-0").one()
    with acting_as("test"):
        db.session.add(stranger)
        db.session.flush()
        db.session.add(member(case=nord_case, member_id=stranger.id, org_unit_id=nord_case.org_unit_id))
        db.session.commit()
    try:
        result = _run(actx, Definition(entity="case", columns=["file_number", "household_member.member"],
                                       filters=[F("household_member.member", "not_empty")]))
        assert result.rows == [["R-nord-0", "(nicht sichtbar)"]]
        seen_by_admin = _run(actx, Definition(entity="case", columns=["household_member.member"],
                                              filters=[F("household_member.member", "not_empty")]), username="admin")
        assert seen_by_admin.rows == [["Fremdbezirk"]]
    finally:
        db.session.query(member).delete()
        db.session.delete(db.session.get(partner, stranger.id))
        db.session.commit()


def test_every_entity_and_field_of_the_metamodel_can_be_queried(actx, data):
    # Robustness over the whole YAML (also the pages of other issues): every column, every grouping, no failure.
    from app.services import research
    from app.services.research import Definition
    fields = _fields(actx)
    for root in fields.roots():
        available = fields.fields(root.name)
        columns = [f.key for f in available if f.in_columns]
        result = _run(actx, Definition(entity=root.name, columns=columns[:research.MAX_COLUMNS]), username="admin")
        assert result.total >= 0
        for f in available:
            if f.groupable:
                table = _run(actx, Definition(entity=root.name, group_by=[f.key]), username="admin")
                assert table.total is not None or table.row_keys == []
            empty = "empty" if f.family != "bool" else "false"
            _run(actx, Definition(entity=root.name, columns=columns[:1], filters=[F(f.key, empty)]),
                 username="admin")
