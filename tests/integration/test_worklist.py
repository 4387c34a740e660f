"""The worklist: what is due, by traffic light, for me and my team, never another unit's; the header count."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app import clock  # Berlin's date: the app's today, also in the hour after Berlin's midnight
from tests.conftest import login


@pytest.fixture
def tasks(ctx, factory):
    from app.extensions import db
    from app.services.users import ensure_user  # noqa: F401  (users come from the session fixture)
    from flask_appbuilder.security.sqla.models import User

    def user(name):
        return db.session.query(User).filter_by(username=name).one()

    def case(unit, number):
        person = factory("partner", unit, kind=factory.value("partner_kind", "person"), surname=f"Klient{number}")
        return factory("case", unit, client=person, opened_on=date(2026, 1, 5), file_number=number,
                       status=factory.value("case_status", "open"))

    today = clock.today()
    nord, sued = case("nord", "N-1"), case("sued", "S-1")
    open_ = factory.value("task_state", "open")
    made = {}
    for title, the_case, due, assignee in [
        ("Überfällig Nord", nord, today - timedelta(days=3), "sachbearbeitung_nord"),
        ("Heute Nord", nord, today, "sachbearbeitung_nord"),
        ("Bald Nord Team", nord, today + timedelta(days=2), None),
        ("Kollegin Nord", nord, today - timedelta(days=1), "sozialarbeit_nord"),
        ("Süd überfällig", sued, today - timedelta(days=5), "sachbearbeitung_sued"),
    ]:
        made[title] = factory("task", the_case.org_unit.code, case=the_case, title=title, due_on=due, state=open_,
                              assignee=user(assignee) if assignee else None)
    return made


def _sections(html: str) -> dict[str, list[str]]:
    out = {}
    for name in ("overdue", "today", "soon", "later"):
        block = re.search(rf'fs-worklist-{name}">(.*?)</div>\s*(?=<div class="panel|</div>\s*$|<div class="panel panel-default fs-appointments)',
                          html, re.S)
        out[name] = re.findall(r'/task/show/\d+">([^<]+)<', block.group(1)) if block else []
    return out


def test_clerk_sees_own_and_team_tasks_by_traffic_light(client, tasks):
    login(client, "sachbearbeitung_nord")
    html = client.get("/worklist/").get_data(as_text=True)
    sections = _sections(html)
    assert sections["overdue"] == ["Überfällig Nord"]
    assert sections["today"] == ["Heute Nord"]
    assert sections["soon"] == ["Bald Nord Team"]
    assert "Kollegin Nord" not in html and "Süd überfällig" not in html
    assert "Tg. überfällig" in html


def test_team_view_shows_colleagues_but_not_other_units(client, tasks):
    login(client, "sachbearbeitung_nord")
    html = client.get("/worklist/?team=1").get_data(as_text=True)
    assert "Kollegin Nord" in html and "Süd überfällig" not in html


def test_start_page_and_header_count(client, tasks):
    login(client, "sachbearbeitung_nord")
    html = client.get("/").get_data(as_text=True)
    assert "Meine Arbeitsliste" in html and "Überfällig Nord" in html
    # Due today or overdue, mine or unassigned: "Überfällig Nord" and "Heute Nord".
    assert re.search(r'Wiedervorlagen</span> <span class="badge fs-badge-due">2</span>', html)


def test_header_count_follows_every_change(client, tasks, factory):
    # The count is cached between requests (render_cache.FlushInvalidatedCache): any change to a task in
    # this process must show on the next page, whichever way it was made.
    from flask import g
    from sqlalchemy import update

    from app.extensions import db

    def badge():
        g.pop("_fs_due_count", None)  # the ctx fixture's outer app context shares g between requests
        html = client.get("/worklist/").get_data(as_text=True)
        return int(re.search(r'<span class="badge fs-badge-due">(\d+)</span>', html).group(1))

    login(client, "sachbearbeitung_nord")
    assert badge() == 2
    client.post(f"/worklist/done/{tasks['Heute Nord'].id}")          # the worklist's button
    assert badge() == 1
    factory("task", "nord", case=tasks["Heute Nord"].case, title="Neu heute", due_on=clock.today(),
            state=factory.value("task_state", "open"))                 # another ORM path
    assert badge() == 2
    task = type(tasks["Heute Nord"])
    db.session.execute(update(task).where(task.title == "Neu heute").values(due_on=clock.today() + timedelta(days=9)))
    db.session.commit()                                                 # a bulk statement, no flush
    assert badge() == 1


def test_other_unit_cannot_complete_a_task(client, tasks):
    from app.extensions import db
    login(client, "sachbearbeitung_sued")
    task = tasks["Heute Nord"]
    client.post(f"/worklist/done/{task.id}")
    db.session.expire_all()
    assert db.session.get(type(task), task.id).state.code == "open"


def test_mark_done_from_the_worklist(client, tasks):
    from app.extensions import db
    login(client, "sachbearbeitung_nord")
    task = tasks["Heute Nord"]
    response = client.post(f"/worklist/done/{task.id}", data={"next": "/worklist/"})
    assert response.status_code == 302
    db.session.expire_all()
    done = db.session.get(type(task), task.id)
    assert (done.state.code, done.done_on) == ("done", clock.today())
    page = client.get("/worklist/").get_data(as_text=True)
    assert "Erledigt: Heute Nord" in page  # the confirmation
    assert "Heute Nord" not in sum(_sections(page).values(), [])


def test_controlling_without_tasks_has_no_worklist(client, tasks):
    login(client, "controlling_nord")
    html = client.get("/").get_data(as_text=True)
    assert client.get("/worklist/").status_code in (200, 302, 403)
    assert "Süd überfällig" not in html
