"""What an export format is: a name, a label people read, a media type, a file-name suffix and how it renders.
Formats that carry reviewed items get the selection and the options; whole-case reports get the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from vigie.errors import VigieError
from vigie.exports.roles import ReportStore
from vigie.exports.selection import ExportItem, LeftOut
from vigie.i18n import DEFAULT_LANGUAGE

TO_COMPLETE = "TO COMPLETE"


class ExportError(VigieError, ValueError):
    exit_code = 2


@dataclass(frozen=True)
class Reporter:
    """The person a CyberTipline draft names as reporting."""

    first_name: str = TO_COMPLETE
    last_name: str = TO_COMPLETE
    email: str = TO_COMPLETE


@dataclass(frozen=True)
class ExportOptions:
    reporter: Reporter = field(default_factory=Reporter)
    language: str = DEFAULT_LANGUAGE  # of pages people read (the case report); data formats stay as they are


def _writes_all(items: list[ExportItem]) -> list[LeftOut]:
    return []


@dataclass(frozen=True)
class ItemExport:
    """Renders the reviewed items chosen, one per content (an empty selection is refused before)."""

    name: str
    label: str
    media_type: str
    suffix: str  # after the case's name in the file name
    render: Callable[[ReportStore, list[ExportItem], ExportOptions], bytes]
    # the items of a selection it does not write, and why; its render leaves out the same (one function for both)
    leaves_out: Callable[[list[ExportItem]], list[LeftOut]] = _writes_all


@dataclass(frozen=True)
class CaseExport:
    """Renders the whole case; takes no selection."""

    name: str
    label: str
    media_type: str
    suffix: str
    render: Callable[[ReportStore, ExportOptions], bytes]


ExportFormat = ItemExport | CaseExport
