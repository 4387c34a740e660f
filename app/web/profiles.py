"""The profile editor (Administration › Berechtigungsprofile): roles.yaml's profiles in the browser.

Each profile is shown as the YAML writes it: an access level per page (none/read/write/delete) and the
admin functions. A save applies at once through ``build_roles.apply_profile`` (the code ``sync-roles``
uses) and writes one history entry per changed level or function. The download is ``roles export``.
roles.yaml stays the source of truth of a deployment: ``fachstelle sync-roles`` writes it back over
in-app edits unless they were exported and committed (the page says so).
"""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_login import current_user
from sqlalchemy import func, select

from ..core_models import ChangeLog, OrgUnit, user_org_unit
from ..domain.dates import format_datetime
from ..extensions import db
from ..metamodel.spec import ProfileSpec
from .actor import current_actor
from .build_roles import (ADMIN_FUNCTION_ALIASES, ADMIN_FUNCTION_LABELS, ADMIN_FUNCTIONS, LEVEL_ACTIONS, LEVEL_LABELS,
                          apply_profile, editable_roles, export_roles, role_profile)

HISTORY_ENTITY = "profile"  # ChangeLog.entity of the profile editor's entries; record_id is the role's id
ADMIN_FIELD = "admin:"  # ChangeLog.field of an admin function: "admin:catalogues"


def editable_functions() -> list[tuple[str, str]]:
    """The admin functions a profile can be given here: those that grant something, by German label."""
    return [(name, ADMIN_FUNCTION_LABELS.get(name, name)) for name, needed in ADMIN_FUNCTIONS.items()
            if needed and name not in ADMIN_FUNCTION_ALIASES]


class ProfileFormError(Exception):
    """A posted value outside the choices; the message is German and names the place."""


def profile_from_form(spec, role, form) -> ProfileSpec:
    levels = {}
    for entity in spec.entities:
        level = form.get(f"level_{entity.name}", "none")
        if level not in LEVEL_ACTIONS:
            raise ProfileFormError(f"Seite „{entity.label}“: unbekannte Stufe „{level}“ – erlaubt sind "
                                   f"{', '.join(LEVEL_LABELS.values())}.")
        levels[entity.name] = level
    allowed = dict(editable_functions())
    admin = form.getlist("admin")
    for name in admin:
        if name not in allowed:
            raise ProfileFormError(f"Admin-Funktionen: unbekannte Funktion „{name}“.")
    known = next((p for p in spec.roles.profiles if p.name == role.name), None)
    return ProfileSpec(name=role.name, label=known.label if known else None, entities=levels, default="none",
                       admin=[name for name in allowed if name in admin])


def changes(spec, before: dict, after: ProfileSpec) -> list[tuple[str, str, str]]:
    """(field, old, new) for every changed page level and admin function."""
    out = [(e.name, before["entities"].get(e.name, "none"), after.entities[e.name]) for e in spec.entities
           if before["entities"].get(e.name, "none") != after.entities[e.name]]
    had, has = set(before.get("admin", [])), set(after.admin)
    for name, _label in editable_functions():
        if (name in had) != (name in has):
            out.append((ADMIN_FIELD + name, "ja" if name in had else "nein", "ja" if name in has else "nein"))
    return out


class AccessProfileView(BaseView):
    route_base = "/profiles"
    default_view = "list"

    def _spec(self):
        return current_app.config["FACHSTELLE_SPEC"]

    def _role(self, name: str):
        role = next((r for r in editable_roles(self.appbuilder.sm) if r.name == name), None)
        if role is None:
            abort(404)
        return role

    @expose("/")
    @has_access
    def list(self):
        spec = self._spec()
        sm = self.appbuilder.sm
        users = dict(db.session.execute(
            select(sm.role_model.name, func.count()).select_from(sm.user_model)
            .join(sm.user_model.roles).group_by(sm.role_model.name)).all())
        rows = []
        for role in editable_roles(sm):
            profile = role_profile(spec, role)
            counts = {level: sum(1 for v in profile["entities"].values() if v == level) for level in LEVEL_ACTIONS}
            rows.append({"profile": profile, "counts": counts, "users": users.get(role.name, 0),
                         "admin": [ADMIN_FUNCTION_LABELS.get(a, a) for a in profile.get("admin", [])]})
        return self.render_template("fachstelle/profiles/list.html", rows=rows, level_labels=LEVEL_LABELS,
                                    recent=self._recent())

    @expose("/<name>", methods=["GET", "POST"])
    @has_access
    def edit(self, name):
        spec = self._spec()
        sm = self.appbuilder.sm
        role = self._role(name)
        before = role_profile(spec, role)
        shown = before
        if request.method == "POST":
            try:
                after = profile_from_form(spec, role, request.form)
            except ProfileFormError as exc:
                flash(str(exc), "danger")
                shown = {**before, "entities": {e.name: request.form.get(f"level_{e.name}", "none")
                                                for e in spec.entities},
                         "admin": request.form.getlist("admin")}
            else:
                changed = changes(spec, before, after)
                if self._locks_out(role, after):
                    flash("Die eigene Funktion „Berechtigungsprofile bearbeiten“ kann man sich nicht selbst nehmen: "
                          "sonst könnte niemand die Änderung zurücknehmen. Das kann ein anderes Konto mit dieser "
                          "Funktion oder die technische Administration (Rolle „Admin“).", "danger")
                    return redirect(url_for("AccessProfileView.edit", name=role.name))
                if changed:
                    apply_profile(sm, spec, after)
                    actor = current_actor().name
                    for field, old, new in changed:
                        db.session.add(ChangeLog(entity=HISTORY_ENTITY, record_id=role.id, action="update",
                                                 field=field, old_value=old, new_value=new, changed_by=actor))
                    sm.session.commit()
                    flash(f"Profil „{role.name}“ gespeichert: {len(changed)} Änderung(en), gültig ab sofort "
                          "für alle Konten mit diesem Profil.", "success")
                else:
                    flash(f"Profil „{role.name}“: keine Änderung.", "info")
                return redirect(url_for("AccessProfileView.edit", name=role.name))
        unit_names = self._units_of(role)
        return self.render_template(
            "fachstelle/profiles/edit.html", profile=shown, entities=spec.entities, level_labels=LEVEL_LABELS,
            functions=editable_functions(), units=unit_names, recent=self._recent(role.id),
            field_labels=self._field_labels(spec))

    @staticmethod
    def _locks_out(role, after: ProfileSpec) -> bool:
        """Would the signed-in user lose the profile editor by this save (no other role of theirs has it)?"""
        if "profiles" in after.admin:
            return False
        mine = list(getattr(current_user, "roles", None) or [])
        if role not in mine or any(r.name == "Admin" for r in mine):
            return False
        needed = set(ADMIN_FUNCTIONS["profiles"])
        return not any(needed <= {(pv.permission.name, pv.view_menu.name) for pv in r.permissions}
                       for r in mine if r is not role)

    @expose("/export")
    @has_access
    def export(self):
        text = export_roles(self.appbuilder.sm, self._spec())
        return Response(text, mimetype="application/x-yaml",
                        headers={"Content-Disposition": 'attachment; filename="roles.yaml"'})

    def _units_of(self, role) -> list[str]:
        """The units whose staff hold this profile (profiles themselves have no units in roles.yaml)."""
        sm = self.appbuilder.sm
        query = (select(OrgUnit.name).distinct().select_from(sm.user_model).join(sm.user_model.roles)
                 .join(user_org_unit, user_org_unit.c.user_id == sm.user_model.id)
                 .join(OrgUnit, OrgUnit.id == user_org_unit.c.org_unit_id)
                 .where(sm.role_model.id == role.id).order_by(OrgUnit.name))
        return list(db.session.scalars(query))

    @staticmethod
    def _field_labels(spec) -> dict[str, str]:
        labels = {e.name: e.label for e in spec.entities}
        labels.update({ADMIN_FIELD + name: f"Admin-Funktion „{label}“" for name, label in editable_functions()})
        return labels

    def _recent(self, role_id: int | None = None, limit: int = 15) -> list[dict]:
        query = select(ChangeLog).where(ChangeLog.entity == HISTORY_ENTITY)
        if role_id is not None:
            query = query.where(ChangeLog.record_id == role_id)
        entries = db.session.scalars(query.order_by(ChangeLog.changed_at.desc(), ChangeLog.id.desc()).limit(limit))
        names = {r.id: r.name for r in editable_roles(self.appbuilder.sm)}
        labels = self._field_labels(self._spec())
        return [{"at": format_datetime(e.changed_at), "by": e.changed_by,
                 "profile": names.get(e.record_id, f"Nr. {e.record_id}"), "field": labels.get(e.field, e.field),
                 "old": LEVEL_LABELS.get(e.old_value, e.old_value), "new": LEVEL_LABELS.get(e.new_value, e.new_value)}
                for e in entries]
