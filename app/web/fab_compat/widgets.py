"""Widget internals: the template arguments of a FAB widget and rendering a widget's template directly."""
from __future__ import annotations

from flask_appbuilder._compat import as_unicode
from flask_appbuilder.widgets import RenderTemplateWidget


def widget_args(widget) -> dict:
    """The keyword arguments a FAB widget was made with (``template_args``), as its template sees them."""
    return widget.template_args


def render_widget_template(widget, **kwargs):
    """Render ``widget.template`` with its arguments and ``kwargs``, skipping the widget's own ``__call__``.

    ``RenderTemplateWidget.__call__``: what FAB's ``SearchWidget.__call__`` ends with, after it has put the
    form's labels, fields and filters into ``kwargs``.
    """
    return RenderTemplateWidget.__call__(widget, **kwargs)


def as_text(value) -> str:
    """A label or filter name as FAB's search widget writes it (``_compat.as_unicode``: bytes decoded)."""
    return as_unicode(value)
