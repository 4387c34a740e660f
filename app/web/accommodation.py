"""Accommodation pages (#12): occupancy board, household page (reserve, move in, transfer, move out),
matching, Belegungsliste (page, print view, XLSX) and utilisation (table and chart, XLSX).

Permissions are the entities': whoever may list occupancies sees the board, the lists and the utilisation;
whoever may add occupancies books, transfers and moves out; reservations need ``can_add`` on reservation.
Every query goes through the org-unit filter (``app/services/accommodation.py``), every change through the
services (history on flush).
"""
from __future__ import annotations

import io
from datetime import date, timedelta

from flask import abort, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import select

from ..domain.periods import MONTH_NAMES, month_period, parse_date, year_period
from ..errors import DomainError
from ..extensions import db
from ..metamodel.build_models import built_registry
from ..scoping import can_see_record
from ..services import accommodation as service
from ..services import occupancy as booking
from . import menus
from .actor import current_actor

OCCUPANCY_PERMISSION = "entity_occupancy"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def M(name: str):  # noqa: N802
    return built_registry().model(name)


def _day(name: str, default: date) -> tuple[date, str | None]:
    text = (request.values.get(name) or "").strip()
    if not text:
        return default, None
    try:
        return parse_date(text), None
    except ValueError as exc:
        return default, f"Datum „{text}“: {exc}"


def _record(entity: str, record_id: int):
    record = db.session.get(M(entity), record_id)
    if record is None or not can_see_record(record, current_actor()):
        abort(404)
    return record


def _expire_reservations(actor) -> None:
    """Reservations past their date become "abgelaufen" before a page shows them (the daily job
    ``fachstelle reservations-expire`` does the same); the change is the system's, in the history."""
    from ..actor import Actor
    booking.expire_reservations(db.session, Actor.system("Reservierungsfrist"), actor.today)


def _can(action: str, entity: str) -> bool:
    from flask import current_app
    return current_app.appbuilder.sm.has_access(action, f"entity_{entity}")


class AccommodationView(BaseView):
    route_base = "/accommodation"
    default_view = "board"
    class_permission_name = OCCUPANCY_PERMISSION
    method_permission_name = {"board": "list", "household": "list", "match": "list", "occupancy_list": "list",
                              "occupancy_list_all": "list",
                              "occupancy_list_xlsx": "list", "utilisation": "list", "utilisation_xlsx": "list",
                              "reserve": "add", "move_in": "add", "transfer": "add", "move_out": "add"}

    # --- board -----------------------------------------------------------------------------------------
    @expose("/board")
    @has_access
    def board(self):
        actor = current_actor()
        day, problem = _day("date", actor.today)
        if problem:
            flash(problem, "danger")
        attrs = tuple(a for a in request.args.getlist("attr") if a)
        shelter_id = request.args.get("shelter", type=int)
        only_free = request.args.get("free") == "1"
        _expire_reservations(actor)
        rows = service.board(db.session, actor, day, attributes=attrs, shelter_id=shelter_id, only_free=only_free,
                             today=actor.today)
        shelters = service.visible_shelters(db.session, actor)
        return self.render_template("fachstelle/accommodation/board.html", rows=rows, day=day, today=actor.today,
                                    attrs=attrs, choices=service.attribute_choices(db.session),
                                    shelters=shelters, shelter_id=shelter_id, only_free=only_free,
                                    total_free=sum(r.free for r in rows), total_places=sum(r.places for r in rows),
                                    fs_page_title="Belegungsübersicht")

    # --- household page --------------------------------------------------------------------------------
    @expose("/case/<int:case_id>")
    @has_access
    def household(self, case_id: int):
        actor = current_actor()
        case = _record("case", case_id)
        Occ, Res, Need = M("occupancy"), M("reservation"), M("need_profile")
        _expire_reservations(actor)
        people = service.household(db.session, case)
        occupancies = list(db.session.scalars(select(Occ).where(Occ.case_id == case.id)
                                              .order_by(Occ.move_in.desc(), Occ.id)))
        reservations = list(db.session.scalars(select(Res).where(Res.case_id == case.id)
                                               .order_by(Res.reserved_from.desc())))
        profiles = list(db.session.scalars(select(Need).where(Need.case_id == case.id).order_by(Need.date_from.desc())))
        current = [o for o in occupancies if o.move_out is None or o.move_out > actor.today]
        active_res = [r for r in reservations if r.state and r.state.code == "aktiv" and r.expires_on >= actor.today]
        # The transfer offers the places free from the chosen transfer day on (``?transfer_date=``), not today's.
        transfer_day, problem = _day("transfer_date", actor.today)
        if problem:
            flash(problem, "danger")
        transfer_places = _free_choices(actor, transfer_day, None, case.id)
        return self.render_template("fachstelle/accommodation/household.html", case=case, people=people,
                                    occupancies=occupancies, reservations=reservations, profiles=profiles,
                                    current=current, active_res=active_res, today=actor.today,
                                    transfer_places=transfer_places,
                                    transfer_day=transfer_day,
                                    reasons=service.catalogue_values(db.session, "occupancy_end_reason"),
                                    bases=service.catalogue_values(db.session, "accommodation_basis"),
                                    payers=service.catalogue_values(db.session, "payer_type"),
                                    can_book=_can("can_add", "occupancy"),
                                    fs_page_title=f"Unterbringung – Fallakte {case.file_number or case.id}")

    @expose("/case/<int:case_id>/move-in", methods=["POST"])
    @has_access
    def move_in(self, case_id: int):
        actor = current_actor()
        case = _record("case", case_id)
        day, problem = _day("move_in", actor.today)
        if problem:
            flash(problem, "danger")
            return redirect(url_for("AccommodationView.household", case_id=case.id))
        try:
            made = service.move_in_household(db.session, actor, case, day, request.form.get("legal_basis") or "obg",
                                              request.form.get("payer_type") or None,
                                              [int(p) for p in request.form.getlist("person") if p.isdigit()])
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            flash(f"Eingezogen zum {day:%d.%m.%Y}: " + "; ".join(
                f"{o.person.surname}, {o.person.first_name or ''} → {booking.place_text(o.place)}" for o in made),
                "success")
        return redirect(url_for("AccommodationView.household", case_id=case.id))

    @expose("/occupancy/<int:occ_id>/transfer", methods=["POST"])
    @has_access
    def transfer(self, occ_id: int):
        actor = current_actor()
        occ = _record("occupancy", occ_id)
        day, problem = _day("day", actor.today)
        place_id = request.form.get("place", type=int)
        if problem or not place_id:
            flash(problem or "Bitte den neuen Platz wählen.", "danger")
            return redirect(url_for("AccommodationView.household", case_id=occ.case_id))
        _record("place", place_id)
        back = url_for("AccommodationView.household", case_id=occ.case_id, transfer_date=f"{day:%d.%m.%Y}")
        # Checked here for the transfer day and the rest of the stay (the database's constraint stays the
        # last guard): occupied, reserved for another household, closed or not in the clerk's shelters.
        if place_id not in {pid for pid, _ in _free_choices(actor, day, occ.move_out, occ.case_id)}:
            flash(f"Der gewählte Platz ist ab dem {day:%d.%m.%Y} nicht frei (belegt, für einen anderen Haushalt "
                  "reserviert oder nicht mehr belegbar); bitte einen der angebotenen Plätze wählen.", "danger")
            return redirect(back)
        try:
            new = booking.transfer(db.session, actor, occ, place_id, day)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            flash(f"Verlegt zum {day:%d.%m.%Y}: {new.person.surname}, {new.person.first_name or ''} → "
                  f"{booking.place_text(new.place)}", "success")
        return redirect(back)

    @expose("/case/<int:case_id>/move-out", methods=["POST"])
    @has_access
    def move_out(self, case_id: int):
        actor = current_actor()
        case = _record("case", case_id)
        day, problem = _day("day", actor.today)
        if problem:
            flash(problem, "danger")
            return redirect(url_for("AccommodationView.household", case_id=case.id))
        ids = [int(i) for i in request.form.getlist("occupancy") if i.isdigit()]
        try:
            ended = service.move_out_household(db.session, actor, case, day, request.form.get("reason") or None, ids)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            flash(f"Ausgezogen zum {day:%d.%m.%Y}: {len(ended)} Person(en).", "success")
        return redirect(url_for("AccommodationView.household", case_id=case.id))

    # --- matching --------------------------------------------------------------------------------------
    @expose("/match/<int:profile_id>")
    @has_access
    def match(self, profile_id: int):
        actor = current_actor()
        profile = _record("need_profile", profile_id)
        # The unsuitable rooms with their reasons only when asked for: the default search reads, ranks and
        # explains only the rooms that can fit (hard requirements in the database).
        show_unsuitable = request.args.get("ungeeignete") == "1"
        need, people, results = service.match_profile(db.session, actor, profile, actor.today,
                                                      show_unsuitable=show_unsuitable)
        return self.render_template("fachstelle/accommodation/match.html", profile=profile, need=need,
                                    people=people, fits=[r for r in results if r.fits],
                                    unsuitable=[r for r in results if not r.fits],
                                    show_unsuitable=show_unsuitable,
                                    labels=service.attribute_labels(db.session), today=actor.today,
                                    default_expiry=actor.today + timedelta(days=2),
                                    can_reserve=_can("can_add", "reservation"),
                                    fs_page_title="Passende Plätze")

    @expose("/match/<int:profile_id>/reserve", methods=["POST"])
    @has_access
    def reserve(self, profile_id: int):
        actor = current_actor()
        profile = _record("need_profile", profile_id)
        if not _can("can_add", "reservation"):
            abort(403)
        expires, problem = _day("expires_on", actor.today + timedelta(days=2))
        place_ids = [int(p) for p in request.form.getlist("place") if p.isdigit()]
        if problem or not place_ids:
            flash(problem or "Keine Plätze gewählt.", "danger")
            return redirect(url_for("AccommodationView.match", profile_id=profile.id))
        for pid in place_ids:
            _record("place", pid)
        try:
            made = service.reserve_for_household(db.session, actor, profile, place_ids, expires)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
            return redirect(url_for("AccommodationView.match", profile_id=profile.id))
        flash(f"{len(made)} Platz/Plätze reserviert bis {expires:%d.%m.%Y}.", "success")
        return redirect(url_for("AccommodationView.household", case_id=profile.case_id))

    # --- Belegungsliste --------------------------------------------------------------------------------
    @expose("/list/<int:shelter_id>")
    @has_access
    def occupancy_list(self, shelter_id: int):
        actor = current_actor()
        day, problem = _day("date", actor.today)
        if problem:
            flash(problem, "danger")
        try:
            shelter, rows = service.occupancy_list(db.session, actor, shelter_id, day, actor.today)
        except DomainError:
            abort(404)
        template = "print" if request.args.get("print") == "1" else "list"
        return self.render_template(f"fachstelle/accommodation/{template}.html", shelter=shelter, rows=rows,
                                    sections=[(shelter, rows)],
                                    day=day, next_day=day + timedelta(days=1), now=actor.today,
                                    fs_page_title=f"Belegungsliste {shelter.name}")

    @expose("/list/print")
    @has_access
    def occupancy_list_all(self):
        """Every visible shelter's Belegungsliste in one print view, each shelter on a page of its own."""
        actor = current_actor()
        day, _problem = _day("date", actor.today)
        sections = [service.occupancy_list(db.session, actor, s.id, day, actor.today)
                    for s in service.visible_shelters(db.session, actor)]
        return self.render_template("fachstelle/accommodation/print.html", sections=sections, day=day,
                                    next_day=day + timedelta(days=1), now=actor.today,
                                    fs_page_title="Belegungslisten")

    @expose("/list/<int:shelter_id>.xlsx")
    @has_access
    def occupancy_list_xlsx(self, shelter_id: int):
        actor = current_actor()
        day, _problem = _day("date", actor.today)
        try:
            shelter, rows = service.occupancy_list(db.session, actor, shelter_id, day, actor.today)
        except DomainError:
            abort(404)
        data = service.write_list_xlsx(shelter.name, day, rows)
        return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                         download_name=f"belegungsliste_{shelter.id}_{day:%Y-%m-%d}.xlsx")

    # --- utilisation -----------------------------------------------------------------------------------
    def _period(self, today: date):
        year = request.args.get("year", type=int) or today.year
        month = request.args.get("month", type=int)
        if not 1990 <= year <= 2199 or (month is not None and not 1 <= month <= 12):
            flash("Jahr oder Monat ungültig.", "danger")
            year, month = today.year, None
        period = month_period(year, month) if month else year_period(year)
        return year, month, period

    @expose("/utilisation")
    @has_access
    def utilisation(self):
        actor = current_actor()
        year, month, period = self._period(actor.today)
        rows = service.utilisation(db.session, actor, period.start, period.end)
        capacity = sum(r.capacity_nights for r in rows)
        occupied = sum(r.occupied_nights for r in rows)
        from ..domain.occupancy import utilisation_percent
        return self.render_template("fachstelle/accommodation/utilisation.html", rows=rows, year=year, month=month,
                                    period=period, month_names=MONTH_NAMES, chart=_chart(rows),
                                    total=(capacity, occupied, utilisation_percent(occupied, capacity)),
                                    fs_page_title="Auslastung der Unterkünfte")

    @expose("/utilisation.xlsx")
    @has_access
    def utilisation_xlsx(self):
        actor = current_actor()
        _year, _month, period = self._period(actor.today)
        rows = service.utilisation(db.session, actor, period.start, period.end)
        data = service.write_utilisation_xlsx(rows, period.start, period.end)
        return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                         download_name=f"auslastung_{period.start:%Y-%m-%d}_{period.end:%Y-%m-%d}.xlsx")


def _free_choices(actor, start: date, end: date | None, case_id: int) -> list[tuple[int, str]]:
    """The places free for ``[start, end)`` (the household's own reservations count as free), as select options."""
    cands = service.candidates(db.session, actor, start, end, actor.today, own_case_id=case_id)
    free = [(pid, f"{c.shelter_name} / {c.room_label}") for c in cands for pid in c.free_place_ids]
    labels = _place_labels([pid for pid, _ in free])
    return [(pid, f"{text} / Platz {labels.get(pid, '')}") for pid, text in free]


def _place_labels(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    Place = M("place")
    return dict(db.session.execute(select(Place.id, Place.label).where(Place.id.in_(ids))).all())


def _chart(rows) -> dict:
    """A horizontal bar per shelter (utilisation in %), drawn as SVG on the server: no script needed."""
    bar_h, gap, left, width = 22, 8, 220, 640
    bars = []
    for i, r in enumerate(rows):
        pct = float(r.percent)
        bars.append({"y": i * (bar_h + gap) + 10, "w": round(min(pct, 100) / 100 * (width - left - 60), 1),
                     "label": r.name, "pct": f"{r.percent}".replace(".", ","), "over": pct > 100})
    return {"bars": bars, "height": len(rows) * (bar_h + gap) + 30, "width": width, "left": left, "bar_h": bar_h,
            "ticks": [(p, left + p / 100 * (width - left - 60)) for p in (0, 25, 50, 75, 100)]}


def _expire_before_reservation_pages() -> None:
    """The reservation list, record page and REST API show the state as it is today: an expired reservation is
    set to "abgelaufen" before they read it (a cheap query when there is nothing to do)."""
    if not request.path.startswith(("/reservation/", "/api/v1/reservation")):
        return
    from flask_login import current_user
    if not getattr(current_user, "is_authenticated", False):
        return
    _expire_reservations(current_actor())


def register_accommodation_views(appbuilder) -> None:
    appbuilder.app.before_request(_expire_before_reservation_pages)
    appbuilder.add_view(AccommodationView, icon="fa-th", href="/accommodation/board",
                        **menus.item(menus.OCCUPANCY_BOARD, "Unterbringung"))
    appbuilder.add_link(href="/accommodation/utilisation", icon="fa-bar-chart",
                        **menus.item(menus.UTILISATION, "Unterbringung"))
