"""Rule tables of the official housing statistics (#14): Stichtag night, age on the day, household roles,
scope by legal basis, the NRW form's cells and the federal records with their plausibility checks."""
from datetime import date

import pytest

from app.domain import housing_stats as hs
from app.domain.calendar import working_calendar

D = date(2025, 6, 30)
B = date(2026, 1, 31)
KEY = b"test-key"


def fact(pid, hid=None, *, move_in=date(2025, 1, 1), move_out=None, basis="obg", role=None, sex="male",
         birth=date(1980, 5, 5), nat="DE", mig="nein", stype="notunterkunft", provider="gemeinde", assoc=None,
         ags="05162024", occ=None):
    return hs.StayFact(person_id=pid, household_id=hid if hid is not None else 1000 + pid, move_in=move_in,
                       move_out=move_out, legal_basis=basis, role=role, sex=sex, birth_date=birth, nationality=nat,
                       migration_background=mig, shelter_type=stype, provider_type=provider, association=assoc,
                       ags=ags, occupancy_id=occ)


# --- Stichtag night ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("move_in, move_out, counted", [
    (date(2025, 6, 30), None, True),                 # moves in on the Stichtag: sleeps there that night
    (date(2025, 7, 1), None, False),                 # moves in the day after
    (date(2025, 1, 1), date(2025, 6, 30), False),    # moves out on the Stichtag: not there that night
    (date(2025, 1, 1), date(2025, 7, 1), True),      # moves out the next morning
    (date(2025, 1, 1), None, True),                  # open occupancy
    (date(2025, 6, 30), date(2025, 6, 30), False),   # no night at all
])
def test_stichtag_night(move_in, move_out, counted):
    r = hs.nrw_report([fact(1, move_in=move_in, move_out=move_out)], D).report
    assert r["personen"]["gesamt"]["insgesamt"] == (1 if counted else 0)


# --- scope by legal basis ----------------------------------------------------------------------------------

@pytest.mark.parametrize("basis, in_nrw, in_bund", [
    ("obg", True, True),
    ("sgb12_67", False, True),
    ("kaeltehilfe", False, True),
    ("asylblg", False, False),
    ("sonstige", False, False),
    (None, False, False),
])
def test_scope_by_legal_basis(basis, in_nrw, in_bund):
    f = fact(1, basis=basis, move_in=date(2025, 1, 1))
    assert hs.nrw_report([f], D).report["personen"]["gesamt"]["insgesamt"] == int(in_nrw)
    assert len(hs.bund_records([f], B, KEY).rows) == int(in_bund)


# --- age on the day ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("birth, age", [
    (date(2007, 6, 30), 18),    # birthday on the Stichtag: completed
    (date(2007, 7, 1), 17),     # birthday the day after
    (date(2004, 6, 30), 21),
    (date(2004, 7, 1), 20),
    (date(2000, 2, 29), 25),
    (date(2025, 6, 30), 0),
])
def test_completed_years(birth, age):
    assert hs.completed_years(birth, D) == age


@pytest.mark.parametrize("age, group", [
    (0, "unter_18"), (17, "unter_18"), (18, "18_21"), (20, "18_21"), (21, "21_25"), (24, "21_25"),
    (25, "25_30"), (29, "25_30"), (30, "30_40"), (39, "30_40"), (40, "40_50"), (49, "40_50"), (50, "50_65"),
    (64, "50_65"), (65, "65_plus"), (104, "65_plus"),
])
def test_age_groups(age, group):
    assert hs.age_group(age) == group


def test_birthday_on_stichtag_moves_person_to_next_group():
    r = hs.nrw_report([fact(1, birth=date(2007, 6, 30)), fact(2, birth=date(2007, 7, 1))], D).report
    assert r["personen"]["alter"]["18_21"]["insgesamt"] == 1
    assert r["personen"]["alter"]["unter_18"]["insgesamt"] == 1


# --- household roles ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("roles, sexes, nrw, bund", [
    (["bezugsperson"], ["male"], "allein_maenner_ohne_kinder", "alleinstehend"),
    (["bezugsperson"], ["female"], "allein_frauen_ohne_kinder", "alleinstehend"),
    ([None], ["female"], "allein_frauen_ohne_kinder", "alleinstehend"),          # one person: role irrelevant
    (["kind"], ["male"], "allein_maenner_ohne_kinder", "alleinstehend"),         # a minor alone
    (["bezugsperson", "kind"], ["female", "male"], "allein_frauen_mit_kindern", "alleinerziehend"),
    (["bezugsperson", "kind", "kind"], ["male", "female", "male"], "allein_maenner_mit_kindern", "alleinerziehend"),
    (["kind", "bezugsperson"], ["male", "female"], "allein_frauen_mit_kindern", "alleinerziehend"),
    (["bezugsperson", "partner"], ["male", "female"], "paare_ohne_kinder", "paar_ohne_kinder"),
    (["bezugsperson", "partner", "kind"], ["male", "female", "male"], "paare_mit_kindern", "paar_mit_kindern"),
    (["bezugsperson", "partner", "sonstige"], ["male"] * 3, "sonstige_mehrpersonen", "sonstiger_mehrpersonenhaushalt"),
    (["bezugsperson", "sonstige"], ["male"] * 2, "sonstige_mehrpersonen", "sonstiger_mehrpersonenhaushalt"),
    (["kind", "kind"], ["male"] * 2, "sonstige_mehrpersonen", "sonstiger_mehrpersonenhaushalt"),  # no Bezugsperson
    (["bezugsperson", "bezugsperson"], ["male"] * 2, "sonstige_mehrpersonen", "sonstiger_mehrpersonenhaushalt"),
    (["bezugsperson", "partner", "partner"], ["male"] * 3, "sonstige_mehrpersonen", "sonstiger_mehrpersonenhaushalt"),
    (["partner", "kind"], ["male"] * 2, "sonstige_mehrpersonen", "sonstiger_mehrpersonenhaushalt"),
    (["bezugsperson", None], ["male"] * 2, "sonstige_mehrpersonen", "unbekannt"),
    (["bezugsperson", "kind"], ["diverse", "male"], "allein_maenner_mit_kindern", "alleinerziehend"),
])
def test_household_structure_from_roles(roles, sexes, nrw, bund):
    members = [fact(i, hid=7, role=r, sex=s) for i, (r, s) in enumerate(zip(roles, sexes, strict=True), 1)]
    r = hs.nrw_report(members, D).report
    assert r["haushalte"]["gesamt"] == 1
    assert {k for k, v in r["haushalte"]["struktur"].items() if v} == {nrw}
    rows = hs.bund_records(members, B, KEY).rows
    assert {row["haushaltstyp"] for row in rows} == {bund}


def test_household_counts_only_members_in_scope():
    """The partner is accommodated under AsylbLG and the child moved out: the NRW household is one person."""
    members = [fact(1, hid=5, role="bezugsperson", sex="female"), fact(2, hid=5, role="partner", basis="asylblg"),
               fact(3, hid=5, role="kind", move_out=date(2025, 6, 1))]
    r = hs.nrw_report(members, D).report
    assert r["haushalte"]["struktur"]["allein_frauen_ohne_kinder"] == 1
    assert r["haushalte"]["groesse"]["1"] == 1


@pytest.mark.parametrize("size, key", [(1, "1"), (2, "2"), (6, "6"), (7, "mehr_als_6"), (11, "mehr_als_6")])
def test_household_size(size, key):
    members = [fact(i, hid=9, role="bezugsperson" if i == 0 else "kind") for i in range(size)]
    r = hs.nrw_report(members, D).report
    assert r["haushalte"]["groesse"][key] == 1
    assert sum(r["haushalte"]["groesse"].values()) == 1
    assert r["personen"]["gesamt"]["insgesamt"] == size


# --- nationality and migration background (adults) ---------------------------------------------------------

@pytest.mark.parametrize("nat, mig, cell", [
    ("DE", "nein", "deutsch_ohne_zuwanderung"),
    ("DE", "ja", "deutsch_mit_zuwanderung"),
    ("DE", None, "keine_angabe"),
    ("deutsch", "nein", "deutsch_ohne_zuwanderung"),
    (None, "nein", "keine_angabe"),
    ("", None, "keine_angabe"),
    ("SY", None, "nicht_deutsch"),
    ("UA", "ja", "nicht_deutsch"),
    ("staatenlos", None, "nicht_deutsch"),
    ("ungeklärt", None, "nicht_deutsch"),
])
def test_nationality_block(nat, mig, cell):
    assert hs.nrw_nationalitaet(nat, mig) == cell
    r = hs.nrw_report([fact(1, nat=nat, mig=mig, sex="female")], D).report
    block = r["personen"]["staatsangehoerigkeit_erwachsene"]
    assert block[cell] == {"insgesamt": 1, "weiblich": 1}
    assert sum(v["insgesamt"] for v in block.values()) == 1


def test_nationality_block_is_adults_only():
    r = hs.nrw_report([fact(1, hid=1, role="bezugsperson", birth=date(1990, 1, 1), nat="SY"),
                       fact(2, hid=1, role="kind", birth=date(2010, 1, 1), nat="SY")], D).report
    assert r["personen"]["staatsangehoerigkeit_erwachsene"]["nicht_deutsch"]["insgesamt"] == 1


# --- Alleinstehende in eigenem Haushalt, weiblich, warnings ------------------------------------------------

def test_alleinstehende_rows_and_female():
    facts = [fact(1, sex="female", birth=date(2005, 1, 1)),                    # 20, alone, female
             fact(2, sex="male", birth=date(2005, 1, 1)),                      # 20, alone
             fact(3, hid=3, role="bezugsperson", sex="female", birth=date(1970, 1, 1)),
             fact(4, hid=3, role="kind", sex="female", birth=date(2006, 1, 1)),  # 19, with her mother
             fact(5, sex="female", birth=date(2009, 1, 1))]                    # 16, alone
    r = hs.nrw_report(facts, D)
    a = r.report["personen"]["alter"]
    assert a["18_21"] == {"insgesamt": 3, "weiblich": 2, "alleinstehend": 2, "alleinstehend_weiblich": 1}
    assert a["unter_18"] == {"insgesamt": 1, "weiblich": 1, "alleinstehend": 1, "alleinstehend_weiblich": 1}
    assert "alleinstehend" not in a["25_30"]
    assert r.report["personen"]["gesamt"] == {"insgesamt": 5, "weiblich": 4}
    assert sorted(r.cells["personen.alter.18_21.alleinstehend"]) == [1, 2]


def test_missing_birth_date_counts_in_total_not_in_age_rows():
    r = hs.nrw_report([fact(1, birth=None), fact(2)], D)
    assert r.report["personen"]["gesamt"]["insgesamt"] == 2
    assert sum(v["insgesamt"] for v in r.report["personen"]["alter"].values()) == 1
    w = [x for x in r.warnings if x.code == "ohne_geburtsdatum"]
    assert w and w[0].person_ids == (1,) and "ohne Geburtsdatum" in r.report["warnungen"][0]


@pytest.mark.parametrize("sex, female, warned", [
    ("female", 1, False), ("male", 0, False), ("diverse", 0, True), ("unknown", 0, True), (None, 0, True)])
def test_sex_rule(sex, female, warned):
    r = hs.nrw_report([fact(1, sex=sex)], D)
    assert r.report["personen"]["gesamt"] == {"insgesamt": 1, "weiblich": female}
    assert any(w.code == "geschlecht_weder_m_noch_w" for w in r.warnings) is warned
    single = "allein_frauen_ohne_kinder" if female else "allein_maenner_ohne_kinder"
    assert r.report["haushalte"]["struktur"][single] == 1


def test_json_keys_exact_and_integers():
    r = hs.nrw_report([fact(1)], D).report
    assert list(r) == ["stichtag", "haushalte", "personen", "warnungen"]
    assert r["stichtag"] == "2025-06-30"
    assert list(r["haushalte"]) == ["gesamt", "struktur", "groesse"]
    assert tuple(r["haushalte"]["struktur"]) == hs.NRW_STRUKTUR
    assert tuple(r["haushalte"]["groesse"]) == ("1", "2", "3", "4", "5", "6", "mehr_als_6")
    assert list(r["personen"]) == ["gesamt", "alter", "staatsangehoerigkeit_erwachsene"]
    assert list(r["personen"]["alter"]) == ["unter_18", "18_21", "21_25", "25_30", "30_40", "40_50", "50_65",
                                            "65_plus"]
    assert list(r["personen"]["staatsangehoerigkeit_erwachsene"]) == [
        "deutsch_ohne_zuwanderung", "deutsch_mit_zuwanderung", "nicht_deutsch", "keine_angabe"]

    def ints(node):
        if isinstance(node, dict):
            for v in node.values():
                ints(v)
        else:
            assert type(node) is int
    ints(r["haushalte"])
    ints(r["personen"])


def test_double_booking_counts_once():
    r = hs.nrw_report([fact(1, move_in=date(2025, 1, 1), occ=1), fact(1, move_in=date(2025, 3, 1), occ=2)], D)
    assert r.report["personen"]["gesamt"]["insgesamt"] == 1
    assert any(w.code == "doppelt_belegt" for w in r.warnings)


# --- federal records ---------------------------------------------------------------------------------------

def test_bund_record_columns_and_values():
    facts = [fact(1, hid=4, role="bezugsperson", sex="female", birth=date(1990, 2, 1), nat="SY",
                  move_in=date(2025, 11, 3), stype="betreutes_wohnen", provider="freier_traeger", assoc="caritas",
                  basis="sgb12_67"),
             fact(2, hid=4, role="kind", sex="diverse", birth=None, nat=None, move_in=date(2025, 11, 3),
                  stype="betreutes_wohnen", provider="freier_traeger", assoc="caritas", basis="sgb12_67")]
    res = hs.bund_records(facts, B, KEY)
    assert tuple(res.rows[0]) == hs.BUND_COLUMNS
    a, b = res.rows
    assert a["stichtag"] == "2026-01-31" and a["ags"] == "05162024"
    assert a["geschlecht"] == "weiblich" and a["alter"] == "35" and a["staatsangehoerigkeit"] == "SY"
    assert a["haushaltstyp"] == "alleinerziehend" and a["haushaltsgroesse"] == "2"
    assert a["art_der_ueberlassung"] == "b" and a["anbieter"] == "freier_traeger" and a["verband"] == "caritas"
    assert a["beginn"] == "2025-11-03"
    assert b["geschlecht"] == "divers" and b["alter"] == "" and b["staatsangehoerigkeit"] == ""
    assert a["haushalt"] == b["haushalt"] and a["person"] != b["person"]
    assert a["person"].startswith("P") and a["haushalt"].startswith("H") and "1" != a["person"]
    assert {p.code for p in res.problems} == {"alter_fehlt"}


@pytest.mark.parametrize("sex, value", [("male", "maennlich"), ("female", "weiblich"), ("diverse", "divers"),
                                        ("unknown", "ohne_angabe"), (None, "unbekannt")])
def test_bund_sex(sex, value):
    assert hs.bund_records([fact(1, sex=sex)], B, KEY).rows[0]["geschlecht"] == value


@pytest.mark.parametrize("stype, art", [("notunterkunft", "a"), ("notschlafstelle", "a"), ("betreutes_wohnen", "b"),
                                        ("stationaer", "c"), ("gemeinschaftsunterkunft", "d"), ("wohnung", "d"),
                                        ("hotel", "d"), ("zelt", ""), (None, "")])
def test_art_der_ueberlassung(stype, art):
    res = hs.bund_records([fact(1, stype=stype)], B, KEY)
    assert res.rows[0]["art_der_ueberlassung"] == art
    assert any(p.code == "art" for p in res.problems) is (art == "")


def test_art_der_ueberlassung_configurable():
    res = hs.bund_records([fact(1, stype="hotel")], B, KEY, {**hs.DEFAULT_ART_DER_UEBERLASSUNG, "hotel": "a"})
    assert res.rows[0]["art_der_ueberlassung"] == "a"


def test_pseudonyms_stable_per_stichtag_and_not_linkable_across():
    one = hs.bund_records([fact(1)], B, KEY).rows[0]["person"]
    assert one == hs.bund_records([fact(1)], B, KEY).rows[0]["person"]
    assert one != hs.bund_records([fact(1)], date(2027, 1, 31), KEY).rows[0]["person"]
    assert one != hs.bund_records([fact(1)], B, b"other").rows[0]["person"]


@pytest.mark.parametrize("kw, code", [
    ({"ags": "1234"}, "ags"), ({"ags": "17000000"}, "ags"), ({"ags": None}, "ags"),
    ({"provider": "freier_traeger", "assoc": None}, "verband_fehlt"),
    ({"provider": "gemeinde", "assoc": "awo"}, "verband_zuviel"),
    ({"provider": None}, "anbieter"),
    ({"birth": date(1900, 1, 1)}, "alter_hoch"),
    ({"sex": None}, "geschlecht"),
])
def test_bund_plausibility(kw, code):
    res = hs.bund_records([fact(1, **kw)], B, KEY)
    assert [p.code for p in res.problems] == [code]
    assert res.problems[0].person_ids == (1,)
    assert len(res.rows) == 1   # nothing dropped


def test_bund_plausibility_checks_the_records():
    rows = [dict(zip(hs.BUND_COLUMNS, ["2026-01-31", "05162024", "P1", "H1", "maennlich", "40", "DE",
                                        "paar_ohne_kinder", "3", "a", "gemeinde", "", "2026-02-02"], strict=True))]
    codes = {p.code for p in hs.bund_plausibility(rows, [1], B)}
    assert codes == {"groesse", "typ_groesse", "beginn"}
    assert all("Datensatz" in p.text for p in hs.bund_plausibility(rows, [1], B))


def test_clean_data_no_problems():
    assert hs.bund_records([fact(1)], B, KEY).problems == []


@pytest.mark.parametrize("year, deadline", [(2025, date(2025, 3, 14)), (2026, date(2026, 3, 13))])
def test_deadline_30_working_days(year, deadline):
    assert hs.bund_deadline(date(year, 1, 31), working_calendar("NW")) == deadline


@pytest.mark.parametrize("today, delivered, expected", [
    (date(2026, 1, 31), (), (date(2025, 1, 31), date(2025, 3, 14))),   # on the Stichtag: last year's still open
    (date(2026, 2, 1), (), (date(2026, 1, 31), date(2026, 3, 13))),
    (date(2026, 3, 20), (), (date(2026, 1, 31), date(2026, 3, 13))),   # overdue stays
    (date(2026, 2, 1), (date(2026, 1, 31),), None),                     # delivered
    (date(2021, 6, 1), (), None),                                       # before the first Stichtag 2022
])
def test_due_delivery_on_worklist(today, delivered, expected):
    assert hs.due_delivery(today, working_calendar("NW"), delivered) == expected


@pytest.mark.parametrize("value, code, flagged", [
    ("DE", "DE", False), ("deutsch", "DE", False), ("sy", "SY", False), ("staatenlos", "staatenlos", False),
    ("ungeklärt", "ungeklaert", False), (None, "", False), ("syrisch", "", True)])
def test_bund_nationality(value, code, flagged):
    res = hs.bund_records([fact(1, nat=value)], B, KEY)
    assert res.rows[0]["staatsangehoerigkeit"] == code
    assert any(p.code == "staatsangehoerigkeit_freitext" for p in res.problems) is flagged


def test_art_der_ueberlassung_setting_accepts_a_to_d_only():
    from pydantic import ValidationError

    from app.metamodel.spec import SettingsSpec
    assert SettingsSpec(art_der_ueberlassung={"hotel": "a"}).art_der_ueberlassung == {"hotel": "a"}
    with pytest.raises(ValidationError):
        SettingsSpec(art_der_ueberlassung={"hotel": "e"})
