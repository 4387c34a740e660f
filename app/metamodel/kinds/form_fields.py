"""Form fields a clerk types into all day: German dates and type-ahead references."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape
from wtforms import Field
from wtforms.fields import DateField, DecimalField, StringField
from wtforms.validators import StopValidation
from wtforms.widgets import html_params

from ...domain import dates, money
from ...scoping import can_see_record


def parse_german_date(text: str) -> date:
    """TT.MM.JJJJ (also JJJJ-MM-TT and TT.MM.JJ); raises ValueError with a German message (app.domain.dates)."""
    return dates.parse_date(text)


class GermanDateWidget:
    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        kwargs.setdefault("placeholder", "TT.MM.JJJJ")
        kwargs.setdefault("autocomplete", "off")
        kwargs["class"] = "form-control fs-date"
        value = field._value()
        return Markup(f'<input type="text" {html_params(value=value, **kwargs)}>')


class GermanDateField(DateField):
    widget = GermanDateWidget()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%d.%m.%Y", **kwargs)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime("%d.%m.%Y") if self.data else ""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = parse_german_date(valuelist[0])
        except ValueError as exc:
            self.data = None
            raise ValueError(str(exc)) from None


def parse_german_decimal(text: str, places: int) -> Decimal:
    """1.234,56 / 1234,56 / 1234.56 / 1.234 (thousands); raises ValueError with a German message."""
    return money.parse_decimal(text, places)


class GermanDecimalWidget:
    # A text box, not <input type=number>: the browser would refuse "1.234,56".
    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        kwargs.setdefault("inputmode", "decimal")
        kwargs.setdefault("placeholder", "0," + "0" * field.places)
        kwargs["class"] = "form-control fs-decimal"
        return Markup(f'<input type="text" {html_params(value=field._value(), **kwargs)}>')


class GermanDecimalField(DecimalField):
    """Amounts as a German clerk types them: 1.234,56 or 1234,56 (1234.56 also works)."""

    widget = GermanDecimalWidget()

    def __init__(self, label=None, validators=None, places=2, **kwargs):
        super().__init__(label, validators, places=places, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{Decimal(self.data):.{self.places}f}".replace(".", ",")

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = parse_german_decimal(valuelist[0], self.places)
        except ValueError as exc:
            self.data = None
            raise ValueError(str(exc)) from None


class GermanTimeField(StringField):
    """A time of day as typed ("9.30", "9:30 Uhr", "10 Uhr"), kept as "HH:MM"."""

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "") or ""
        self.data = raw.strip() or None
        if self.data:
            try:
                self.data = dates.format_time(dates.parse_time(raw))
            except ValueError:
                raise ValueError("Uhrzeit als SS:MM, z. B. 09:30.") from None


class ParsedTextField(StringField):
    """A one-line text the field kind reads and normalises (IBAN, e-mail, phone), with its German message."""

    def __init__(self, label=None, validators=None, parse=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.parse = parse

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "") or ""
        if not raw.strip():
            self.data = None
            return
        self.data = raw
        self.data = self.parse(raw)  # a ValueError keeps the typed text in the box and shows the message


class TypeaheadWidget:
    """A select2 box that asks the server as the clerk types (never a dropdown of 200,000 rows)."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        kwargs["class"] = "form-control fs-typeahead"
        kwargs["data-endpoint"] = self.endpoint
        kwargs["data-placeholder"] = "Tippen zum Suchen …"
        option = ""
        if field.data is not None:
            option = f'<option value="{field.data.id}" selected>{escape(str(field.data))}</option>'
        else:
            option = '<option value=""></option>'
        return Markup(f"<select {html_params(**kwargs)}>{option}</select>")


class RefField(Field):
    """A reference to another record, chosen by type-ahead; only records the user may see are accepted."""

    def __init__(self, label=None, validators=None, model=None, endpoint="", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.model = model
        self.widget = TypeaheadWidget(endpoint)

    def process_data(self, value):
        self.data = value

    def process_formdata(self, valuelist):
        from ...extensions import db

        raw = (valuelist[0] if valuelist else "").strip()
        if not raw:
            self.data = None
            return
        try:
            record = db.session.get(self.model, int(raw))
        except (TypeError, ValueError):
            record = None
        if record is None or not can_see_record(record):
            self.data = None
            raise ValueError("Ausgewählter Datensatz nicht gefunden")
        self.data = record

    def pre_validate(self, form):
        # Keep "nicht gefunden": DataRequired would replace it by "bitte auswählen" as the data is None.
        if self.process_errors:
            raise StopValidation()
