"""The list table (FAB's list widget) written in Python: the same HTML as its Jinja templates, faster.

A list page shows one table, a case file nine (one per area page). Through Jinja each table costs some
200 macro calls, filter look-ups and context copies for its header, pagination, sort links and row
buttons: about a fifth of a list page and a quarter of a case file. This module writes the same markup
with plain string joins. It calls the same template filters (``is_item_visible``, ``link_order``,
``link_page``, ``safe_url_for`` …) from the app's Jinja environment, so permissions and links stay FAB's.

The Jinja templates stay as the specification: ``fachstelle/widgets/list.html`` (on top of FAB's
``general/widgets/list.html`` and ``base_list.html``). ``tests/integration/test_list_table.py`` renders
both for list pages, filtered and sorted lists, later pages, empty lists, admins' action checkboxes and
every related table of a case file, and requires the same HTML up to runs of white space (a run is
kept wherever the templates have one, so inline buttons keep their gaps).
"""
from __future__ import annotations

import math

from flask import current_app, url_for
from markupsafe import Markup, escape


def _esc(value) -> str:
    # What Jinja's autoescape writes for {{ value }}: Markup as it is, everything else escaped.
    return str(escape(value))


class _Env:
    """The template filters and globals the templates use, taken from the app's Jinja environment."""

    __slots__ = ("filters", "gettext", "nonce", "csrf_token")

    def __init__(self):
        env = current_app.jinja_env
        self.filters = env.filters
        # The templates' memoised gettext (render_cache); under autoescape Jinja's newstyle gettext
        # returns Markup, so a translation is written as it is.
        self.gettext = current_app.extensions["fs_gettext"]
        nonce = env.globals.get("csp_nonce")
        self.nonce = (lambda: str(nonce())) if nonce else (lambda: "")
        self.csrf_token = env.globals.get("csrf_token")

    def visible(self, permission: str, modelview_name: str) -> bool:
        return bool(self.filters["is_item_visible"](permission, modelview_name))


def render_list_widget(args: dict) -> Markup:
    """The HTML of ``fachstelle/widgets/list.html`` for these widget arguments (FAB's ListWidget's)."""
    env = _Env()
    name = args["modelview_name"]
    can_add, can_show = env.visible("can_add", name), env.visible("can_show", name)
    can_edit, can_delete = env.visible("can_edit", name), env.visible("can_delete", name)
    actions = env.filters["get_actions_on_list"](args.get("actions") or {}, name)
    count = args["count"]
    out = ['<div class="well well-sm">\n']
    _list_header(out, env, args, name, count, can_add, actions)
    out.append("\n</div>\n")
    if count > 0:
        out.append('<div class="table-responsive">\n<table class="table table-bordered table-hover">\n')
        _header_row(out, env, args, name, actions, can_show or can_edit or can_delete)
        _rows(out, env, args, name, actions, can_show, can_edit, can_delete)
        out.append("\n</table>\n</div>\n")
        _action_form(out, env, actions, name)
        out.append(f'\n<script nonce="{env.nonce()}">\n$(document).ready(function() {{\n'
                   "window.modelActions = new AdminActions();\n});\n</script>\n")
    else:
        out.append(f'\n<b>{env.gettext("No records found")}</b>\n')
    return Markup("".join(out))


# --- the well above the table: pagination, page size, add, actions, back, count -------------------
def _list_header(out, env, args, name, count, can_add, actions) -> None:
    page, page_size = args.get("page") or 0, args["page_size"]
    pages = int(math.ceil(count / page_size)) if page_size else 0
    if pages > 1:
        _pagination(out, env, name, page, pages)
        _page_size(out, env, name, page, page_size, count)
    if can_add:
        path = env.filters["safe_url_for"](name + ".add")
        if path:
            href = env.filters["set_link_filters"](path, args["filters"])
            out.append(f'\n<a href="{_esc(href)}" class="btn btn-sm btn-primary" data-toggle="tooltip" rel="tooltip"\n'
                       f'title="{env.gettext("Add a new record")}">\n'
                       f'<span class="sr-only">{env.gettext("Add")}</span>\n<i class="fa fa-plus"></i>\n</a>\n')
    if actions:
        _actions_menu(out, env, actions)
    back = env.gettext("Back")
    out.append(f'\n<a href="{_esc(url_for("UtilView.back"))}" class="btn btn-sm btn-default" data-toggle="tooltip" '
               f'rel="tooltip"\ntitle="{back}">\n<span class="sr-only">{back}</span>\n'
               '<i class="fa fa-arrow-left"></i>\n</a>\n')
    cap = args.get("count_cap")
    shown = f"mehr als {cap:,}".replace(",", ".") if cap and count > cap else _esc(count)
    out.append(f'\n<div class="pull-right fs-count">\n<strong>{env.gettext("Record Count")}:</strong>\n'
               f'{shown}\n</div>\n')


def _pagination(out, env, name, page, pages) -> None:
    # lib.render_pagination: seven page links around the current one, first/previous/next/last.
    link = env.filters["link_page"]
    low, high = page - 3, page + 3 + 1
    if low < 0:
        high -= low
    if high >= pages:
        low = low - high + pages
    low, high = max(low, 0), min(high, pages)

    def item(href, text):
        if href is None:
            return f'\n<li class="disabled">\n<a href="#">{text}</a>\n</li>\n'
        return f'\n<li>\n<a href="{_esc(href)}">{text}</a>\n</li>\n'

    out.append('\n<ul class="pagination pagination-sm" style="display:inherit;">\n')
    out.append(item(link(0, name) if low > 0 else None, "&laquo;"))
    out.append(item(link(page - 1, name) if page > 0 else None, "&lt;"))
    for p in range(low, high):
        if p == page:
            out.append(f'\n<li class="active">\n<a href="#">{p + 1}</a>\n</li>\n')
        else:
            out.append(f'\n<li>\n<a href="{_esc(link(p, name))}">{p + 1}</a>\n</li>\n')
    out.append(item(link(page + 1, name) if page + 1 < pages else None, "&gt;"))
    out.append(item(link(pages - 1, name) if high < pages else None, "&raquo;"))
    out.append("\n</ul>\n")


def _page_size(out, env, name, page, page_size, count) -> None:
    link = env.filters["link_page_size"]
    out.append(f'\n<div class="btn-group">\n<button type="button" class="btn btn-default btn-sm dropdown-toggle" '
               f'data-toggle="dropdown">\n{env.gettext("Page size")}<span class="caret"></span>\n</button>\n'
               '<ul class="dropdown-menu" role="menu">\n')
    for size in range(25, 125, 25):
        if page * size <= count:
            active = ' class="active"' if size == page_size else ""
            out.append(f'\n<li{active}><a href="{_esc(link(size, name))}">{size}</a></li>\n')
    out.append("\n</ul>\n</div>\n")


def _actions_menu(out, env, actions) -> None:
    out.append(f'\n<div class="btn-group">\n<button type="button" class="btn btn-default btn-sm dropdown-toggle" '
               f'data-toggle="dropdown">\n{env.gettext("Actions")}<span class="caret"></span>\n</button>\n'
               '<ul class="dropdown-menu" role="menu">\n')
    for key in actions:
        action = actions[key]
        out.append(f'\n<li>\n<a href="#"\nclass="{_esc(action.name)}_menu_item">\n<i class="fa {_esc(action.icon)}">'
                   f'</i>\n{env.gettext(action.text)}\n</a>\n</li>\n')
    out.append(f'\n</ul>\n<script nonce="{env.nonce()}">\n$(document).ready(function() {{\n')
    for key in actions:
        action = actions[key]
        confirmation = f"'{_esc(action.confirmation)}'" if action.confirmation else "false"
        separator = "" if action.confirmation else " "
        out.append(f"\n$('.{_esc(action.name)}_menu_item').on('click', function(){{\n"
                   f"return modelActions.execute_multiple('{_esc(action.name)}',{separator}{confirmation});\n}})\n")
    out.append("\n});\n</script>\n</div>\n")


def _action_form(out, env, actions, name) -> None:
    csrf = (f'\n<input type="hidden" name="csrf_token" value="{_esc(env.csrf_token())}"/>\n'
            if env.csrf_token else "\n")
    if actions:
        path = env.filters["safe_url_for"](name + ".action_post")
        if path:
            out.append(f'\n<form id="action_form" action="{_esc(path)}" method="POST" style="display: none">\n'
                       f'{csrf}\n<input type="hidden" id="action" name="action" />\n</form>\n')
        else:
            out.append("\n")
    else:
        out.append(f'\n<form id="delete_form" action="" method="POST" style="display: none">\n'
                   f'{csrf}\n<input type="hidden" id="delete" name="delete" />\n</form>\n')


# --- the table ------------------------------------------------------------------------------------
def _header_row(out, env, args, name, actions, crud) -> None:
    order_columns, labels = args.get("order_columns") or [], args.get("label_columns") or {}
    out.append("\n<thead>\n<tr>\n")
    if actions:
        out.append('\n<th class="action_checkboxes">\n'
                   '<input id="check_all" class="action_check_all" name="check_all" type="checkbox">\n</th>\n')
    if crud:
        out.append('\n<th class="col-md-1 col-lg-1 col-sm-1" ></th>\n')
    get_order, link_order = env.filters["get_link_order"], env.filters["link_order"]
    icons = {2: "fa-chevron-up", 1: "fa-chevron-down"}
    for column in args["include_columns"]:
        label = _esc(labels.get(column))
        if column in order_columns:
            icon = icons.get(get_order(column, name), "fa-arrows-v")
            out.append(f'\n<th><a href={_esc(link_order(column, name))}>{label}\n'
                       f'<i class="fa {icon} pull-right"></i></a></th>\n')
        else:
            out.append(f"\n<th>{label}</th>\n")
    out.append("\n</tr>\n</thead>\n")


def _rows(out, env, args, name, actions, can_show, can_edit, can_delete) -> None:
    url, with_filters = env.filters["safe_url_for"], env.filters["set_link_filters"]
    filters = args["filters"]
    show_href = with_filters(url(name + ".show", pk="__pk__") or "", filters) if can_show else ""
    edit_href = with_filters(url(name + ".edit", pk="__pk__") or "", filters) if can_edit else ""
    delete_href = (url(name + ".delete", pk="__pk__") or "") if can_delete else ""
    nonce = env.nonce() if delete_href else ""
    t = env.gettext
    crud = can_show or can_edit or can_delete
    show_html = (f'\n<a href="{_esc(show_href)}" class="btn btn-sm btn-default" data-toggle="tooltip" rel="tooltip"\n'
                 f'title="{t("Show record")}">\n<span class="sr-only">{t("Show")}</span>\n'
                 '<i class="fa fa-search"></i>\n</a>\n') if show_href else ""
    edit_html = (f'\n<a href="{_esc(edit_href)}" class="btn btn-sm btn-default" data-toggle="tooltip" rel="tooltip"\n'
                 f'title="{t("Edit record")}">\n<span class="sr-only">{t("Edit")}</span>\n'
                 '<i class="fa fa-edit"></i>\n</a>\n') if edit_href else ""
    confirm = t("Are you sure you want to delete this item?")
    pks = args["pks"]
    cells = table_cells(args)
    for index, pk in enumerate(pks):
        pk = str(pk)
        out.append("\n<tr>\n")
        if actions:
            out.append(f'\n<td>\n<input id="{_esc(pk)}" class="action_check" name="rowid" value="{_esc(pk)}" '
                       'type="checkbox">\n</td>\n')
        if crud:
            out.append('\n<td><center>\n<div class="btn-group btn-group-xs" style="display: flex;">\n')
            if show_html:
                out.append(show_html.replace("__pk__", pk))
            if edit_html:
                out.append(edit_html.replace("__pk__", pk))
            if delete_href:
                href = _esc(delete_href.replace("__pk__", pk))
                out.append(f'\n<a\nid="btn-delete-{href}"\nhref="#"\nclass="btn btn-sm btn-default confirm"\n'
                           f'rel="tooltip"\ntitle="{t("Delete record")}"\n>\n<span class="sr-only">{t("Delete")}'
                           '</span>\n<i class="fa fa-trash"></i>\n</a>\n'
                           f'<script nonce="{nonce}">\ndocument.getElementById("btn-delete-{href}")\n'
                           '.addEventListener("click", function () {\nconst adminAction = new AdminActions();\n'
                           f"return adminAction.execute_single_delete('{href}','{confirm}');\n}})\n</script>\n")
            out.append("\n</div>\n</center></td>\n")
        out.append("".join(f"<td>{_esc(cell)}</td>" for cell in cells[index]))
        out.append("\n</tr>\n")


def table_cells(args: dict) -> list[list]:
    """Each row's cells, formatted: FAB's value_columns through the view's formatters_columns."""
    formatters = args.get("formatters_columns") or {}
    columns = args["include_columns"]
    return [[formatters[c](row[c]) if c in formatters else row[c] for c in columns] for row in args["value_columns"]]
