"""Typed spec of the YAML metamodel (config/entities.yaml, config/roles.yaml, config/settings.yaml).

Pydantic classes only; no Flask, no database. Unknown keys are errors (``extra="forbid"``):
a typo in YAML must never become a silent extension.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .kinds import kind_names

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)]

# The kinds are registered in app/metamodel/kinds; an unknown ``type:`` is reported with file and line
# (spec.E012) and the list of these names.
FIELD_TYPES = kind_names()
FieldType = Literal[FIELD_TYPES]  # type: ignore[valid-type]
# "list" (#15): the list of a page without its records; fields marked ``sensitive`` are masked there.
ACCESS_LEVELS = ("none", "list", "read", "write", "delete")
AccessLevel = Literal["none", "list", "read", "write", "delete"]


class Strict(BaseModel):
    # Unknown keys are typos, never silent extensions.
    model_config = ConfigDict(extra="forbid")


class FieldSpec(Strict):
    name: Identifier
    type: FieldType
    label: str
    help: str | None = None
    required: bool = False
    default: str | int | float | bool | None = None
    read_only: bool = False
    sensitive: bool = False
    indexed: bool = False
    unique: bool = False
    length: int | None = Field(default=None, ge=1, le=4000)
    catalogue: Identifier | None = None  # for choice / multichoice
    ref: Identifier | None = None  # target entity for ref
    min: Decimal | None = None
    max: Decimal | None = None
    regex: str | None = None
    street_picker: bool = False  # string field with type-ahead from the street directory
    show_in_list: bool = False
    show_in_search: bool = False
    show_in_show: bool = True
    show_in_edit: bool = True
    hidden: bool = False  # an overlay hides a field without dropping its column


class PageSpec(Strict):
    """A tab (fieldset) of an entity's form."""

    name: Identifier
    label: str
    fields: list[Identifier]


class UniqueSpec(Strict):
    fields: list[Identifier]


class RetentionOverrideSpec(Strict):
    """Another period for records of one type (``when``: field -> catalogue code or value), e.g. a case type."""

    when: dict[Identifier, str]
    years: int = Field(ge=0, le=100)
    months: int = Field(default=0, ge=0, le=11)


class RetentionSpec(Strict):
    """How long a record is kept (#15): ``years``/``months`` after the date in field ``after`` (e.g. 5 years
    after ``closed_on``, 10 for a loan after ``settled_on``); then erased or anonymised with its pages,
    letters and documents. ``hold`` names a yes/no field that stops it (legal hold)."""

    # ``date``: the clock starts at the date in ``after``; ``settlement``: at the day the record's ledger was
    # settled (a loan getilgt/erlassen), which the retention run derives from the bookings and stamps into ``after``.
    kind: Literal["date", "settlement"] = "date"
    after: Identifier
    years: int = Field(ge=0, le=100)
    months: int = Field(default=0, ge=0, le=11)
    action: Literal["erase", "anonymise"] = "erase"
    hold: Identifier | None = None
    overrides: list[RetentionOverrideSpec] = []


class EntitySpec(Strict):
    name: Identifier
    label: str
    label_plural: str | None = None
    description: str | None = None
    parent: Identifier | None = None  # case-file page: belongs to a parent record
    parent_field: Identifier | None = None  # the ref field pointing at the parent
    org_scope: Literal["required", "shared", "none"] = "required"
    menu: str | None = None  # menu category (German)
    icon: str | None = None
    title_fields: list[Identifier] = []  # what a reference to this entity shows
    fields: list[FieldSpec]
    pages: list[PageSpec] = []
    list_columns: list[Identifier] = []
    search_fields: list[Identifier] = []
    order_by: Identifier | None = None
    order_direction: Literal["asc", "desc"] = "asc"
    unique: list[UniqueSpec] = []
    # Composite indexes for the lists that domain pages read at city size, e.g. [case, entry_date].
    indexes: list[list[Identifier]] = []
    related: list[Identifier] = []  # child entities listed on the show page
    # #15: every read of a record (page, REST, export, letter) is in the access log. A page with a field
    # marked ``sensitive`` is sensitive too.
    sensitive: bool = False
    retention: RetentionSpec | None = None

    @property
    def is_sensitive(self) -> bool:
        return self.sensitive or any(f.sensitive for f in self.fields)

    @property
    def plural(self) -> str:
        return self.label_plural or self.label

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


# Lengths of the database columns these values are seeded into (core_models.py, FAB's ab_role).
class CatalogueValueSpec(Strict):
    code: Identifier
    label: Annotated[str, StringConstraints(max_length=200)]
    group: Annotated[str, StringConstraints(max_length=120)] | None = None


class CatalogueSpec(Strict):
    name: Identifier
    label: str
    values: list[CatalogueValueSpec]


class OrgUnitSpec(Strict):
    code: Identifier
    name: Annotated[str, StringConstraints(max_length=120)]
    address: Annotated[str, StringConstraints(max_length=200)] | None = None
    email: Annotated[str, StringConstraints(max_length=120)] | None = None
    phone: Annotated[str, StringConstraints(max_length=60)] | None = None


# --- treasury and loans (#13; the shelter fees of #12 use the same treasury settings) ---
TREASURY_COLUMNS = ("kassenzeichen", "faellig_am", "betrag", "art", "name", "vorname", "sachkonto", "kostenstelle",
                    "produkt", "buchungstext", "vorgang")
PAYMENT_COLUMNS = ("buchungs_id", "kassenzeichen", "betrag", "buchungstag", "verwendungszweck")


class KassenzeichenSpec(Strict):
    """How the city's Kassenzeichen are made: prefix + running number (``digits`` wide) + check digit."""

    prefix: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]*$", max_length=12)] = ""
    start: int = Field(default=1, ge=0)
    end: int = Field(default=999999, ge=1)
    digits: int = Field(default=6, ge=1, le=14)
    mask: Annotated[str, StringConstraints(max_length=40)] | None = None  # "#" takes a character: "##.######-#"
    check_digit: Literal["keine", "mod10", "mod11"] = "mod10"


class LayoutFieldSpec(Strict):
    """One field of an export layout: a posting column, its width (fixed width) and alignment."""

    field: Literal[TREASURY_COLUMNS]  # type: ignore[valid-type]
    header: Annotated[str, StringConstraints(max_length=40)] | None = None  # CSV header (default: the field)
    width: int | None = Field(default=None, ge=1, le=200)
    align: Literal["left", "right"] = "left"
    pad: Annotated[str, StringConstraints(min_length=1, max_length=1)] = " "


class ExportLayoutSpec(Strict):
    """A treasury file layout: CSV (delimiter, header) or fixed width; encoding, decimal comma, date format."""

    label: str | None = None
    format: Literal["csv", "fixed"] = "csv"
    fields: list[LayoutFieldSpec]
    delimiter: Annotated[str, StringConstraints(min_length=1, max_length=1)] = ";"
    header: bool = True
    encoding: Literal["utf-8", "utf-8-sig", "cp1252", "latin-1", "iso-8859-15"] = "utf-8"
    decimal_comma: bool = True
    date_format: Literal["%d.%m.%Y", "%Y-%m-%d", "%Y%m%d", "%d%m%Y"] = "%d.%m.%Y"
    line_end: Literal["lf", "crlf"] = "crlf"
    art_codes: dict[Literal["soll", "sollabgang", "sollzugang", "auszahlung"], str] = {}


class PaymentProfileSpec(Strict):
    """The treasury's payment CSV: which header names the five columns have, decimal comma, date format."""

    label: str | None = None
    columns: dict[Literal[PAYMENT_COLUMNS], str] = {}  # type: ignore[valid-type]  # field → header (default: its name)
    decimal_comma: bool = True
    date_format: Literal["%d.%m.%Y", "%Y-%m-%d", "%Y%m%d"] = "%d.%m.%Y"


class TreasurySpec(Strict):
    kassenzeichen: KassenzeichenSpec = KassenzeichenSpec()
    sachkonto: Annotated[str, StringConstraints(max_length=20)] = ""
    kostenstelle: Annotated[str, StringConstraints(max_length=20)] = ""
    produkt: Annotated[str, StringConstraints(max_length=30)] = ""
    export_layout: Identifier = "standard_csv"
    layouts: dict[Identifier, ExportLayoutSpec] = {}
    payment_profile: Identifier = "standard_csv"
    payment_profiles: dict[Identifier, PaymentProfileSpec] = {}


class LoansSpec(Strict):
    """Loans: amount limits per profile and action, the four-eyes threshold, cost accounting per purpose."""

    limits: dict[str, dict[Literal["bewilligen", "stunden", "niederschlagen", "erlassen"], Decimal]] = {}
    four_eyes_above: Decimal | None = None  # write-offs and waivers above it need a second person
    # § 42a Abs. 2 SGB II: Aufrechnung with 5 % of the Regelbedarf (since 1.7.2023); the rate the page proposes.
    regelbedarf: Decimal | None = None
    offset_percent: Decimal = Decimal("5")
    sachkonto: Annotated[str, StringConstraints(max_length=20)] | None = None  # default: treasury.sachkonto
    kostenstelle: Annotated[str, StringConstraints(max_length=20)] | None = None
    produkt: Annotated[str, StringConstraints(max_length=30)] | None = None


class SettingsSpec(Strict):
    city_name: str = "Fachstelle"
    holiday_subdivision: Literal[
        "BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI", "NW", "RP", "SH", "SL", "SN", "ST", "TH"
    ] = "NW"
    closure_days: list[date] = []
    org_units: list[OrgUnitSpec] = []
    # Sign-out after this many minutes without a request (FACHSTELLE_IDLE_MINUTES overrides it).
    idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Federal housing statistic (#14): shelter type code → Art der Überlassung a–d; overrides the defaults of
    # app.domain.housing_stats.DEFAULT_ART_DER_UEBERLASSUNG per type (docs/statistik.md).
    art_der_ueberlassung: dict[str, Literal["a", "b", "c", "d"]] = {}
    treasury: TreasurySpec = TreasurySpec()  # #13
    loans: LoansSpec = LoansSpec()  # #13


class ProfileSpec(Strict):
    """A permission profile in domain terms, synced into a FAB role."""

    name: Annotated[str, StringConstraints(max_length=64)]
    label: str | None = None
    entities: dict[Identifier, AccessLevel] = {}
    default: AccessLevel = "none"  # for entities not named
    # "roles" is the name "profiles" had before #11 (the profile editor; see build_roles.ADMIN_FUNCTION_ALIASES).
    admin: list[Literal["catalogues", "users", "profiles", "roles", "org_units", "streets", "merge", "history",
                        "letters", "indicators", "access_standards", "imports", "login_audit",
                        "statistics", "research", "fees", "treasury", "privacy", "subject_access"]] = []


class FollowUpSpec(Strict):
    """A catalogue rule: recording this service creates a task due ``days`` working days later."""

    days: int = Field(ge=0, le=250)
    title: Annotated[str, StringConstraints(max_length=200)]
    closed_by: Identifier | None = None  # measurement point whose entry completes the task
    cancel_on_contact: bool = False  # "unless a contact is recorded"


class ServiceSpec(Strict):
    """One service of the Leistungskatalog, seeded into the database and edited there afterwards."""

    code: Identifier
    name: Annotated[str, StringConstraints(max_length=120)]
    group: Identifier | None = None  # code in catalogue service_group
    product_number: Annotated[str, StringConstraints(max_length=20)] | None = None
    measurement_point: Identifier | None = None  # code in catalogue measurement_point
    counts_as_contact: bool = False
    letter_template: Identifier | None = None
    follow_up: FollowUpSpec | None = None
    active_from: date | None = None
    active_to: date | None = None


class RolesSpec(Strict):
    profiles: list[ProfileSpec]


class AppSpec(Strict):
    settings: SettingsSpec = SettingsSpec()
    catalogues: list[CatalogueSpec] = []
    entities: list[EntitySpec]
    roles: RolesSpec = RolesSpec(profiles=[])
    services: list[ServiceSpec] = []

    def entity(self, name: str) -> EntitySpec | None:
        return next((e for e in self.entities if e.name == name), None)

    def catalogue(self, name: str) -> CatalogueSpec | None:
        return next((c for c in self.catalogues if c.name == name), None)
