"""The pure parts of the load benchmark (bench/load.py): request mix, percentiles, lost-write accounting,
reading and filling the served add form. No server, no database."""
from __future__ import annotations

import random

import pytest

from bench.load import (account_writes, compare, fill_form, form_problems, parse_form, parse_mix, percentile,
                        summarise)


def test_mix_is_parsed_with_weights_and_default_weight_one():
    assert parse_mix("list=20, case=30,search=2.5,save") == [("list", 20.0), ("case", 30.0), ("search", 2.5),
                                                             ("save", 1.0)]


@pytest.mark.parametrize("text, message", [
    ("list=20,cases=3", "Unbekannte Anfrageart „cases“"),   # a typo is not silently ignored
    ("form=3", "Unbekannte Anfrageart „form“"),              # part of "save", not chosen on its own
    ("list=zwei", "keine Zahl"),
    ("list=-1", "≥ 0"),
    ("list=nan", "≥ 0"),
    ("list=0,case=0", "Gewicht > 0"),
    ("", "Gewicht > 0"),
    ("list=1,list=2", "zweimal"),
])
def test_bad_mix_is_refused_with_the_place(text, message):
    with pytest.raises(ValueError, match=message):
        parse_mix(text)


def test_percentile_is_nearest_rank():
    samples = [float(n) for n in range(40, 0, -1)]      # 1..40, unordered
    assert percentile(samples, 0.95) == 38.0              # the 38th of 40, as bench/measure.py
    assert percentile(samples, 0.50) == 20.0
    assert percentile(samples, 0.99) == 40.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 0.0) == 1.0
    assert percentile([], 0.5) is None
    hundred = [float(n) for n in range(1, 101)]
    assert (percentile(hundred, 0.5), percentile(hundred, 0.95), percentile(hundred, 0.99)) == (50.0, 95.0, 99.0)


def test_summary_per_kind_and_overall():
    samples = [("list", 10.0, True), ("list", 30.0, False), ("case", 20.0, True), ("case", 40.0, True)]
    s = summarise(samples, seconds=2.0)
    assert s["all"]["requests"] == 4 and s["all"]["errors"] == 1 and s["all"]["per_second"] == 2.0
    assert s["list"]["p50_ms"] == 10.0 and s["list"]["p99_ms"] == 30.0 and s["list"]["errors"] == 1
    assert s["case"]["p95_ms"] == 40.0 and "search" not in s


def test_lost_writes_count_missing_and_duplicated_markers():
    check = account_writes(confirmed=["m1", "m2", "m3", "m4"], unconfirmed=["u1", "u2"],
                           found={"m1": 1, "m2": 2, "m4": 1, "u1": 1, "x9": 1})
    assert check.missing == ["m3"]                    # confirmed, not in the database
    assert check.duplicated == ["m2"]                 # saved twice
    assert check.lost == 2
    assert check.unconfirmed_stored == 1              # u1: error on the client, stored anyway – not lost
    assert check.unknown == ["x9"]                    # never sent by this run
    assert (check.confirmed, check.unconfirmed) == (4, 2)


def test_no_lost_writes_when_every_marker_is_there_once():
    check = account_writes(["a", "b"], [], {"a": 1, "b": 1})
    assert check.lost == 0 and not check.missing and not check.duplicated and not check.unknown


# The add form as Flask-AppBuilder serves it (shortened from /doc-entry/add?_flt_0_case=13).
ADD_FORM = """
<form class="form-inline" method="get" role="search"><input name="q" value=""></form>
<form id="model_form" action="" method="post" enctype="multipart/form-data">
<input id="csrf_token" name="csrf_token" type="hidden" value="TOKEN.abc">
<input id="version" name="version" type="hidden" value="3">
<table>
<tr><td><label for="entry_date" control-label>Datum <strong style="color: red">&#42;</strong></label></td>
<td><input type="text" autocomplete="off" class="form-control fs-date" id="entry_date" name="entry_date" value="06.12.2026"></td></tr>
<tr><td><label for="service" control-label>Leistung <strong style="color: red">&#42;</strong></label></td>
<td><select class="form-control fs-typeahead" data-endpoint="/typeahead/service" id="service" name="service"><option value=""></option></select></td></tr>
<tr><td><label for="info" control-label>Kurzinfo</label></td>
<td><input class="form-control" id="info" maxlength="200" name="info" type="text" value=""></td></tr>
<tr><td><label for="text">Dokumentation</label></td><td><textarea class="form-control" id="text" name="text" rows="3">\r\n</textarea></td></tr>
<tr><td><label for="provider">Erbringer/in</label></td><td><select class="my_select2 form-control" id="provider" name="provider"><option value="__None">__None</option><option value="1">A</option><option selected value="9">B</option></select></td></tr>
<tr><td><label for="member">Mitglied</label></td><td><select class="form-control fs-typeahead" data-endpoint="/typeahead/partner" id="member" name="member"><option value=""></option></select></td></tr>
<tr><td><label for="kind">Art</label></td><td><select id="kind" name="kind"><option value="__None">__None</option><option value="4">x</option></select></td></tr>
<tr><td><label for="due">Frist</label><strong style="color: red">*</strong></td><td><input class="form-control fs-date" id="due" name="due" value=""></td></tr>
<tr><td><input id="in_pairs" name="in_pairs" type="checkbox" value="y"><input id="urgent" name="urgent" type="checkbox" value="y" checked></td></tr>
</table>
<button type="submit">Speichern</button><input type="submit" value="Speichern">
</form>
"""


def test_the_post_form_with_its_fields_and_required_ones_is_read():
    form = parse_form(ADD_FORM)
    assert form["method"] == "post" and form["action"] == ""
    names = [f["name"] for f in form["fields"]]
    assert names == ["csrf_token", "version", "entry_date", "service", "info", "text", "provider", "member", "kind",
                     "due", "in_pairs", "urgent"]
    assert form["required"] == {"entry_date", "service"}   # "due"'s asterisk is outside its label


def test_the_form_is_filled_as_a_clerk_would():
    asked = []

    def lookup(endpoint):
        asked.append(endpoint)
        return [5, 6, 7]

    pairs = fill_form(parse_form(ADD_FORM), "LOAD-x-01-00001", lookup, random.Random(1), "07.12.2026")
    values = dict(pairs)
    assert values["csrf_token"] == "TOKEN.abc" and values["version"] == "3"   # hidden fields as served
    assert values["entry_date"] == "06.12.2026"                             # the served default stays
    assert values["info"] == "LOAD-x-01-00001"                              # the marker
    assert values["service"] in {"5", "6", "7"} and asked == ["/typeahead/service"]   # only the required look-up
    assert values["member"] == ""                                           # optional type-ahead left empty
    assert values["provider"] == "9"                                        # the selected user
    assert values["kind"] == "__None"                                       # optional drop-down: FAB's "none"
    assert values["text"].startswith("Lasttest")                            # the textarea's "\r\n" is no content
    assert values["due"] == ""                                              # not marked required in its label
    assert "in_pairs" not in values and values["urgent"] == "y"             # checkboxes as a browser sends them
    assert "" not in values and len(pairs) == 11                            # no submit buttons


def test_a_form_without_the_marker_field_is_refused_with_its_fields():
    html = ADD_FORM.replace('name="info"', 'name="short_info"')
    with pytest.raises(ValueError, match="kein Feld „info“.*short_info"):
        fill_form(parse_form(html), "m", lambda e: [1], random.Random(1), "07.12.2026")


def test_a_required_lookup_without_results_is_refused():
    with pytest.raises(ValueError, match="/typeahead/service.*„service“"):
        fill_form(parse_form(ADD_FORM), "m", lambda e: [], random.Random(1), "07.12.2026")


def test_no_post_form_without_csrf_token():
    assert parse_form('<form method="post"><input name="q"></form>') is None


def test_form_problems_are_the_german_messages():
    html = ('<span class="help-block">Pflichtfeld</span><span class="help-block"></span>'
            '<div class="alert alert-danger"><button type="button" class="close">&times;</button>'
            'Die Fallakte ist geschlossen.</div>')
    assert form_problems(html) == "Pflichtfeld; Die Fallakte ist geschlossen."
    assert form_problems("<p>nichts</p>") == "Formular erneut angezeigt"


def test_throughput_ratio_per_clerk_count():
    def result(target, clerks, rate):
        return {"target": target, "clerks": clerks, "kinds": {"all": {"per_second": rate}}}
    rows = compare([result("HEAD", 20, 30.0), result("Ref 58a6444", 20, 25.0), result("HEAD", 50, 20.0),
                    result("Ref 58a6444", 50, 0.0)])
    assert [(r["clerks"], round(r["ratio"], 2)) for r in rows] == [(20, 1.2)]


def test_rounds_are_combined_into_one_result_per_code_and_clerk_count():
    from collections import Counter

    from bench.load import Round, Target, combine
    target = Target(label="HEAD", rev="abc", tree=None, python=None, db_url="", home=None)
    first = Round(samples=[("list", 10.0, True), ("save", 50.0, True)], completed=2, errors=Counter(),
                  check=account_writes(["a", "b"], [], {"a": 1, "b": 1}), seconds=2.0, load_before=1.0,
                  load_after=1.5, budget_hit=False)
    second = Round(samples=[("list", 30.0, True), ("list", 20.0, False)], completed=1,
                   errors=Counter({("list", "Status 500"): 1}),
                   check=account_writes(["c", "d"], ["e"], {"c": 2}), seconds=2.0, load_before=1.5,
                   load_after=2.0, budget_hit=False)
    result = combine(target, 20, [first, second])
    # 4 requests started in the windows, 3 finished in them: throughput counts the finished ones
    assert result["kinds"]["all"]["requests"] == 4 and result["kinds"]["all"]["per_second"] == 0.75
    assert result["kinds"]["list"]["p50_ms"] == 20.0 and result["kinds"]["all"]["errors_with_warmup"] == 1
    assert result["writes"]["confirmed"] == 4 and result["writes"]["lost"] == 2          # d missing, c twice
    assert (result["writes"]["missing"], result["writes"]["duplicated"]) == (1, 1)
    assert [r["per_second"] for r in result["rounds"]] == [1.0, 0.5]
    assert (result["load_before"], result["load_after"]) == (1.0, 2.0)


def test_the_record_form_is_taken_not_a_small_button_form_before_it():
    # Since #11 a save's flash may carry a "Brief erzeugen" button (a POST form with a token) above the form.
    from bench.load import parse_form
    html = ('<form method="post" action="/entry-letters/create/5"><input name="csrf_token" value="t1">'
            '<button type="submit">Brief erzeugen</button></form>'
            '<form method="post" action=""><input name="csrf_token" value="t2"><input name="info" value="">'
            '<input name="entry_date" value="06.12.2026"></form>')
    form = parse_form(html)
    assert [f["name"] for f in form["fields"]] == ["csrf_token", "info", "entry_date"]
