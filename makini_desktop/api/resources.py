"""The one table of what the app reads from the Makini API.

Every URL path and every field name the app uses lives here and nowhere else (the sandbox
server serves the same table). When the real API turns out to differ from the parts of the
contract marked [ours], this file changes and nothing else should have to.

Two levels:

* A :class:`Dataset` is one collection endpoint (``/api/eam/locations``). It is the unit of
  fetching, caching and incremental sync.
* A :class:`View` is what a user sees and exports (``floors`` and ``spaces`` are both views
  of the ``locations`` dataset). It names its columns and how each is shown and sorted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

INTEGRATION_PATH = "/api/integrations/current"
"""Connection status endpoint (contract §2.2)."""

DEFAULT_BASE_URL = "https://api.makini.io"

# Query parameter spellings (contract §3).
PARAM_PAGE = "page"
PARAM_PER_PAGE = "per_page"
PARAM_CURSOR = "cursor"
MAX_PER_PAGE = 100


def filter_param(field_name: str, op: str | None = None) -> str:
    """The query parameter name for a filter: ``filter[field]`` or ``filter[field:op]``."""
    return f"filter[{field_name}:{op}]" if op else f"filter[{field_name}]"


# Common entity fields (contract §2.1).
F_KEY = "key"
F_CREATED = "createdAt"
F_UPDATED = "updatedAt"
F_DELETED = "deletedAt"

# The response envelope: records under "data", pagination in "meta" and "links" (contract §3).
ENV_DATA = "data"
ENV_META = "meta"
ENV_LINKS = "links"
META_CURRENT_PAGE = "current_page"
META_LAST_PAGE = "last_page"
META_TOTAL = "total"
META_NEXT_CURSOR = "next_cursor"  # top level or in "meta"
LINK_NEXT = "next"

# The error envelope: fields inside "error" or at the top level (contract §4).
ERR_ENVELOPE = "error"
ERR_CODE = "code"
ERR_TYPE = "type"
ERR_MESSAGE = "message"
ERR_REQUEST_ID = "request_id"
ERR_FIELDS = "errors"  # validation problems per field
ERR_CURRENT = "current"  # on a 409: the record as the server has it (contract §6.2)

# The Integration status record at INTEGRATION_PATH (contract §2.2).
F_INTEGRATION_ID = "id"
F_COMPANY_NAME = "company_name"
F_PROVIDER = "provider"
F_SYNC_STATUS = "sync_status"

SYNC_STATUS_LABELS: Mapping[str, str] = {
    "done": "Ready",
    "fulldone": "Ready",
    "inprogress": "Syncing",
    "error": "Degraded",
    "fail": "Needs reconnect",
}


def connection_state(sync_status: object) -> str:
    """Map an Integration ``sync_status`` to the app's state label (contract §2.2)."""
    return SYNC_STATUS_LABELS.get(str(sync_status), "Unknown") if sync_status else "Unknown"


class Kind(Enum):
    """How a column's raw JSON value is shown and sorted."""

    TEXT = "text"
    INT = "int"
    NUMBER = "number"
    BOOL = "bool"
    DATETIME = "datetime"
    ENUM = "enum"  # a code such as "meeting_room" shown as "Meeting room"
    REF = "ref"  # a key of another dataset, shown as that record's name
    COUNT = "count"  # a JSON array, shown as its length
    AREA = "area"  # a number in its building's unit (the site's areaUnit): "56 sq ft"


@dataclass(frozen=True)
class Column:
    """One column of a view.

    Attributes:
        id: stable identifier (used for settings such as column widths).
        header: the human header.
        fields: the JSON fields to read, first non-empty wins (``makeName`` then the older
            ``manufacturerName``).
        kind: how the value is shown and sorted.
        ref: for ``Kind.REF``, the dataset whose record name the key resolves to.
        hidden: not shown by default (still searchable when shown, always exported).
        sort_first: an integer field that orders rows before this column's text (a floor's
            ``level``: "Level 2" before "Level 10", parking below ground first).
    """

    id: str
    header: str
    fields: tuple[str, ...]
    kind: Kind = Kind.TEXT
    ref: str | None = None
    hidden: bool = False
    sort_first: str | None = None

    def raw(self, row: Mapping[str, Any]) -> Any:
        """The first non-empty raw value among this column's fields, else None."""
        for name in self.fields:
            value = _lookup(row, name)
            if value is not None and value != "":
                return value
        return None


def _lookup(row: Mapping[str, Any], name: str) -> Any:
    """Read ``name`` from a row; a dotted name walks into nested objects."""
    if "." not in name:
        return row.get(name)
    value: Any = row
    for part in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


@dataclass(frozen=True)
class Dataset:
    """One collection endpoint: the unit of fetching, caching and incremental sync.

    Attributes:
        name: stable identifier (cache tables, logs).
        path: the collection path; a record is at ``{path}/{key}``.
        entity: the contract's entity name.
        optional_module: a 404 ``NOT_FOUND`` on this collection means the connection's
            system does not offer the module (contract §2), not an error.
        writable_status: the record accepts ``PUT {"status": ...}`` (contract §6.2).
        creatable: the collection accepts ``POST`` of a new record (contract §6.3).
        statuses: the record's ``status`` values (empty: it has none).
        transitions: the status changes allowed (current -> targets).
    """

    name: str
    path: str
    entity: str
    optional_module: bool = False
    writable_status: bool = False
    creatable: bool = False
    statuses: tuple[str, ...] = ()
    transitions: Mapping[str, tuple[str, ...]] = field(
        default_factory=dict, hash=False, compare=False
    )

    def record_path(self, key: str) -> str:
        """The path of one record of this dataset."""
        from urllib.parse import quote

        return f"{self.path}/{quote(str(key), safe='')}"


@dataclass(frozen=True)
class View:
    """What a user sees and exports: a dataset, optionally narrowed, with its columns.

    Attributes:
        name: the CLI's RESOURCE word and the tab id (``spaces``).
        title: the tab title (``Spaces``).
        noun: singular/plural nouns for labels ("1,204 of 5,530 spaces").
        dataset: the dataset this view reads.
        server_filter: query parameters that narrow the dataset on the server.
        row_filter: a predicate applied to rows on the client (for what the contract's
            filter operators cannot say, such as "type is not floor").
        columns: the columns, in default order.
    """

    name: str
    title: str
    noun: tuple[str, str]
    dataset: Dataset
    columns: tuple[Column, ...]
    server_filter: Mapping[str, str] = field(default_factory=dict)
    row_filter: Callable[[Mapping[str, Any]], bool] | None = None

    def accepts(self, row: Mapping[str, Any]) -> bool:
        """True if a row of the dataset belongs to this view."""
        return self.row_filter is None or self.row_filter(row)

    def column(self, column_id: str) -> Column:
        """The column with that id."""
        for col in self.columns:
            if col.id == column_id:
                return col
        raise KeyError(column_id)


# Field names the app reasons about (beyond plain display).
F_NAME = "name"
F_CODE = "code"
F_SITE_KEY = "siteKey"
F_PARENT_KEY = "parentKey"
F_LOCATION_KEY = "locationKey"
F_TYPE = "type"
F_STATUS = "status"
F_AREA_UNIT = "areaUnit"
F_LEVEL = "level"  # a floor's storey number (contract §2.4)
F_OCCUPIED = "occupied"
F_OCCUPANT = "occupantName"
F_CATEGORY = "categoryName"
F_EXPECTED = "expectedAt"
LOCATION_TYPE_FLOOR = "floor"

SPACE_TYPES: tuple[str, ...] = (
    "office", "workstation", "meeting_room", "huddle_room", "conference_room",
    "hoteling_desk", "reception", "break_room", "storage", "server_room", "restroom", "lab",
    "parking_space", "other",
)
SEATED_SPACE_TYPES: frozenset[str] = frozenset({"workstation", "office", "hoteling_desk"})
"""Space types that seat people: a space of one of them with no occupant is vacant."""
MOVE_STATUSES: tuple[str, ...] = (
    "pending", "approved", "in_progress", "completed", "rejected", "cancelled",
)
MOVE_TRANSITIONS: Mapping[str, tuple[str, ...]] = {
    "pending": ("approved", "rejected", "cancelled"),
    "approved": ("in_progress", "cancelled"),
    "in_progress": ("completed",),
}
"""Contract §2.6/§6.2: the status changes a move allows (current -> targets)."""
MOVE_ITEM_TYPES: tuple[str, ...] = ("employee_move", "new_person", "exiting_employee", "equipment")
VISIT_STATUSES: tuple[str, ...] = ("expected", "checked_in", "checked_out", "cancelled", "no_show")
VISIT_TRANSITIONS: Mapping[str, tuple[str, ...]] = {
    "expected": ("checked_in", "cancelled", "no_show"),
    # checked_in -> expected is "arrival undone", checked_out -> checked_in "departure undone".
    "checked_in": ("checked_out", "expected"),
    "checked_out": ("checked_in",),
}
"""Contract §6.2: the status changes a visit allows (current -> targets), undo steps included."""
VISITOR_TYPES: tuple[str, ...] = ("visitor", "contractor", "interview", "vendor", "delivery")

# Record fields the writes set or clear (contract §2.6, §2.7, §6.2).
F_CHECKED_IN = "checkedInAt"
F_CHECKED_OUT = "checkedOutAt"
F_COMPLETED = "completedAt"
F_STATUS_REASON = "statusReason"  # moves: why it was rejected or cancelled

# Visit fields (contract §2.7), also the registration's body (§6.3).
F_VISITOR_NAME = "visitorName"
F_VISITOR_EMAIL = "visitorEmail"
F_COMPANY = "company"
F_VISITOR_TYPE = "visitorType"
F_HOST_NAME = "hostName"
F_NOTES = "notes"

# -- Writes (contract §6) ---------------------------------------------------------------

HEADER_IDEMPOTENCY_KEY = "Idempotency-Key"
"""Every write sends one (a uuid4 per user action, kept for every retry and replay)."""
HEADER_IDEMPOTENT_REPLAYED = "Idempotent-Replayed"
"""[ours, the sandbox] ``true`` on an answer replayed from the idempotency memory."""
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
"""How long the server remembers a key, per token (§6.1)."""

# The status change's body (PUT on a record, §6.2).
W_STATUS = "status"
W_EXPECTED_STATUS = "expectedStatus"
W_OCCURRED_AT = "occurredAt"
W_REASON = "reason"

OCCURRED_AT_MAX_FUTURE_SECONDS = 5 * 60
"""``occurredAt`` more than this far ahead of the server's clock is 422 (§6.2)."""
OCCURRED_AT_MAX_PAST_SECONDS = 7 * 24 * 3600
"""``occurredAt`` more than this far behind the server's clock is 422 (§6.2)."""

STATUS_STAMPS: Mapping[str, Mapping[str, str]] = {
    "visits": {"checked_in": F_CHECKED_IN, "checked_out": F_CHECKED_OUT},
    "moves": {"completed": F_COMPLETED},
}
"""Per dataset: the timestamp field a change *to* a status records (``occurredAt``)."""
UNDO_CLEARS: Mapping[str, Mapping[tuple[str, str], str]] = {
    "visits": {("checked_in", "expected"): F_CHECKED_IN,
               ("checked_out", "checked_in"): F_CHECKED_OUT},
}
"""Per dataset: (from, to) undo steps and the timestamp field each clears (§6.2)."""
REASON_STATUSES: Mapping[str, tuple[str, ...]] = {"moves": ("rejected", "cancelled")}
"""Per dataset: the statuses whose change keeps ``reason`` in ``statusReason``."""

# Visitor registration (POST on the visits collection, §6.3).
REGISTRATION_REQUIRED: tuple[str, ...] = (
    F_VISITOR_NAME, F_VISITOR_TYPE, F_HOST_NAME, F_SITE_KEY, F_EXPECTED,
)
REGISTRATION_OPTIONAL: tuple[str, ...] = (F_VISITOR_EMAIL, F_COMPANY, F_LOCATION_KEY, F_NOTES)
REGISTRATION_STATUSES: tuple[str, ...] = ("expected", "checked_in")
"""``status`` a registration may carry: ``checked_in`` registers a walk-in already here."""

# ---------------------------------------------------------------------------------------
# Datasets (contract §2)

SITES = Dataset("sites", "/api/eam/sites", "Site")
LOCATIONS = Dataset("locations", "/api/eam/locations", "Location")
ASSETS = Dataset("assets", "/api/eam/assets", "Asset")
MOVES = Dataset(
    "moves", "/api/iwms/moves", "Move", optional_module=True, writable_status=True,
    statuses=MOVE_STATUSES, transitions=MOVE_TRANSITIONS,
)
VISITS = Dataset(
    "visits", "/api/iwms/visitors", "Visit", optional_module=True, writable_status=True,
    creatable=True, statuses=VISIT_STATUSES, transitions=VISIT_TRANSITIONS,
)

DATASETS: Mapping[str, Dataset] = {d.name: d for d in (SITES, LOCATIONS, ASSETS, MOVES, VISITS)}


# Fields and codes the Overview reasons about (contract §2.4–2.7); the others it reads
# (occupied, level, categoryName, expectedAt, checkedInAt ...) are named above.
F_CAPACITY = "capacity"
F_LAST_AUDITED = "lastAuditedAt"
F_SCHEDULED = "scheduledAt"
DESK_SPACE_TYPES: frozenset[str] = frozenset({"workstation", "hoteling_desk"})
"""Space types a person books or sits at (the "Vacant desks" view)."""
ROOM_TYPES: tuple[str, ...] = ("meeting_room", "huddle_room", "conference_room")
"""Space types counted apart from seats: rooms people meet in."""
MOVE_OPEN_STATUSES: tuple[str, ...] = ("pending", "approved", "in_progress")
"""Move statuses still ahead (the schedule of the next days counts these)."""
VISIT_ON_SITE = "checked_in"
VISIT_LEFT = "checked_out"
VISIT_EXPECTED = "expected"
VISIT_NO_SHOW = "no_show"
VISIT_CANCELLED = "cancelled"


def _is_floor(row: Mapping[str, Any]) -> bool:
    return row.get(F_TYPE) == LOCATION_TYPE_FLOOR


def _is_space(row: Mapping[str, Any]) -> bool:
    return row.get(F_TYPE) != LOCATION_TYPE_FLOOR


_BUILDING = Column("building", "Building", (F_SITE_KEY,), Kind.REF, ref="sites")
_UPDATED = Column("updated", "Updated", (F_UPDATED,), Kind.DATETIME, hidden=True)
_KEY = Column("key", "Key", (F_KEY,), hidden=True)

BUILDINGS_VIEW = View(
    "buildings", "Buildings", ("building", "buildings"), SITES,
    columns=(
        Column("name", "Building", (F_NAME,)),
        Column("code", "Code", (F_CODE,)),
        Column("city", "City", ("address.city",)),
        Column("country", "Country", ("address.country",)),
        Column("floors", "Floors", ("floorsCount",), Kind.INT),
        Column("area", "Gross area", ("grossArea",), Kind.AREA),
        Column("description", "Description", ("description",), hidden=True),
        _UPDATED,
        _KEY,
    ),
)

FLOORS_VIEW = View(
    "floors", "Floors", ("floor", "floors"), LOCATIONS,
    server_filter={filter_param(F_TYPE): LOCATION_TYPE_FLOOR},
    row_filter=_is_floor,
    columns=(
        Column("name", "Floor", (F_NAME,), sort_first=F_LEVEL),
        Column("code", "Code", (F_CODE,)),
        _BUILDING,
        Column("level", "Level", (F_LEVEL,), Kind.INT),
        Column("active", "Active", ("isActive",), Kind.BOOL, hidden=True),
        _UPDATED,
        _KEY,
    ),
)

SPACES_VIEW = View(
    "spaces", "Spaces", ("space", "spaces"), LOCATIONS,
    row_filter=_is_space,
    columns=(
        Column("name", "Space", (F_NAME,)),
        Column("code", "Code", (F_CODE,)),
        Column("type", "Type", (F_TYPE,), Kind.ENUM),
        Column("floor", "Floor", (F_PARENT_KEY,), Kind.REF, ref="locations"),
        _BUILDING,
        Column("capacity", "Capacity", ("capacity",), Kind.INT),
        Column("area", "Area", ("area",), Kind.AREA),
        Column("occupied", "Occupied", (F_OCCUPIED,), Kind.BOOL),
        Column("occupant", "Occupant", (F_OCCUPANT,)),
        Column("reservable", "Reservable", ("reservable",), Kind.BOOL),
        Column("active", "Active", ("isActive",), Kind.BOOL, hidden=True),
        _UPDATED,
        _KEY,
    ),
)

ASSETS_VIEW = View(
    "assets", "Assets", ("asset", "assets"), ASSETS,
    columns=(
        Column("tag", "Tag", ("tag",)),
        Column("name", "Asset", (F_NAME,)),
        Column("category", "Category", (F_CATEGORY,)),
        Column("make", "Make", ("makeName", "manufacturerName")),
        Column("model", "Model", ("modelName",)),
        Column("serial", "Serial number", ("serialNumber",)),
        _BUILDING,
        Column("location", "Location", (F_LOCATION_KEY,), Kind.REF, ref="locations"),
        Column("owner", "Assigned to", ("ownerName",)),
        Column("criticality", "Criticality", ("criticality",), Kind.ENUM),
        Column("audited", "Last audited", ("lastAuditedAt",), Kind.DATETIME),
        Column("active", "Active", ("isActive",), Kind.BOOL, hidden=True),
        _UPDATED,
        _KEY,
    ),
)

MOVES_VIEW = View(
    "moves", "Moves", ("move", "moves"), MOVES,
    columns=(
        Column("title", "Move", ("title",)),
        Column("status", "Status", (F_STATUS,), Kind.ENUM),
        Column("requested_by", "Requested by", ("requestedByName",)),
        _BUILDING,
        Column("scheduled", "Scheduled", ("scheduledAt",), Kind.DATETIME),
        Column("completed", "Completed", ("completedAt",), Kind.DATETIME),
        Column("items", "Items", ("items",), Kind.COUNT),
        Column("notes", "Notes", ("notes",), hidden=True),
        _UPDATED,
        _KEY,
    ),
)

VISITORS_VIEW = View(
    "visitors", "Visitors", ("visitor", "visitors"), VISITS,
    columns=(
        Column("visitor", "Visitor", ("visitorName",)),
        Column("company", "Company", ("company",)),
        Column("type", "Type", ("visitorType",), Kind.ENUM),
        Column("host", "Host", ("hostName",)),
        _BUILDING,
        Column("status", "Status", (F_STATUS,), Kind.ENUM),
        Column("expected", "Expected", (F_EXPECTED,), Kind.DATETIME),
        Column("checked_in", "Checked in", ("checkedInAt",), Kind.DATETIME),
        Column("checked_out", "Checked out", ("checkedOutAt",), Kind.DATETIME),
        Column("email", "Email", ("visitorEmail",), hidden=True),
        _UPDATED,
        _KEY,
    ),
)

VIEWS: Mapping[str, View] = {
    v.name: v
    for v in (BUILDINGS_VIEW, FLOORS_VIEW, SPACES_VIEW, ASSETS_VIEW, MOVES_VIEW, VISITORS_VIEW)
}
"""Every view, by the name the CLI and the tabs use."""

TAB_VIEWS: tuple[str, ...] = ("spaces", "assets", "moves", "visitors", "buildings")
"""The main window's tabs, in order."""


# ---------------------------------------------------------------------------------------
# The detail pane: the fields a record shows beyond its view's columns, and its relations.

F_CUSTOM_FIELDS = "customFields"
"""A record's own customer-defined fields (contract §2.1), shown under "Other fields"."""
F_ITEMS = "items"
F_ASSET_KEY = "assetKey"
F_FROM_LOCATION_KEY = "fromLocationKey"
F_TO_LOCATION_KEY = "toLocationKey"
F_PERSON_NAME = "personName"
F_ITEM_TYPE = "itemType"

DETAIL_FIELDS: Mapping[str, tuple[Column, ...]] = {
    "buildings": (
        Column("address", "Address", ("address.addressLines",)),
        Column("state", "State or region", ("address.state",)),
        Column("post_code", "Postcode", ("address.postCode",)),
        Column("lat", "Latitude", ("lat",)),  # as sent: a rounded one would mislead
        Column("lng", "Longitude", ("lng",)),
        Column("created", "Created", (F_CREATED,), Kind.DATETIME),
    ),
    "floors": (
        Column("type", "Type", (F_TYPE,), Kind.ENUM),
        Column("description", "Description", ("description",)),
        Column("area", "Area", ("area",), Kind.AREA),
        Column("created", "Created", (F_CREATED,), Kind.DATETIME),
    ),
    "spaces": (
        Column("description", "Description", ("description",)),
        Column("created", "Created", (F_CREATED,), Kind.DATETIME),
    ),
    "assets": (
        Column("description", "Description", ("description",)),
        Column("part_of", "Part of", (F_PARENT_KEY,), Kind.REF, ref="assets"),
        Column("activated", "Activated", ("activatedAt",), Kind.DATETIME),
        Column("deactivated", "Deactivated", ("deactivatedAt",), Kind.DATETIME),
        Column("created", "Created", (F_CREATED,), Kind.DATETIME),
    ),
    "moves": (
        Column("status_reason", "Reason", ("statusReason",)),
        Column("created", "Created", (F_CREATED,), Kind.DATETIME),
    ),
    "visitors": (
        Column("space", "Space", (F_LOCATION_KEY,), Kind.REF, ref="locations"),
        Column("notes", "Notes", ("notes",)),
        Column("created", "Created", (F_CREATED,), Kind.DATETIME),
    ),
}
"""Per view, the record's fields the detail pane shows after the view's own columns."""

DETAIL_SILENT_FIELDS: frozenset[str] = frozenset(
    {F_KEY, F_DELETED, F_ITEMS, F_CUSTOM_FIELDS, F_AREA_UNIT}
)
"""Fields the detail pane never lists as "Other fields": the key has its own row, a move's
items are its related records, custom fields are listed one by one, every area shows its
unit, and ``deletedAt`` is null for every record a list returns."""
