"""Which column of an upload holds which field: the header row read against the template of
the kind of import chosen (or recognised as another kind's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from xueji.core.errors import ServiceError, translated
from xueji.imports import columns as cols


class HeaderError(ServiceError):
    """The sheet's header row does not match the template."""


def _purpose_of_header(header: list[Any], *, chosen: str) -> str | None:
    """Another kind of import whose template the header fits (every required column there),
    the one with the most of its columns present; None when none fits."""
    present = {cols.header_key(text) for text in header}
    best: tuple[int, str] | None = None
    for purpose in cols.PURPOSES:
        if purpose == chosen:
            continue
        fields = cols.fields_of(purpose)
        keys = {cols.header_key(field.header) for field in fields}
        if not all(cols.header_key(f.header) in present for f in fields if f.required):
            continue
        matched = len(keys & present)
        if best is None or matched > best[0]:
            best = (matched, purpose)
    return None if best is None else best[1]


@dataclass
class Layout:
    """Which column of the upload holds which field."""

    fields: list[cols.Field]
    index: dict[str, int]  # field key -> column index

    @classmethod
    def of(cls, purpose: str, header: list[Any]) -> Layout:
        fields = cols.fields_of(purpose)
        by_header = {cols.header_key(field.header): field for field in fields}
        index: dict[str, int] = {}
        for position, text in enumerate(header):
            found = by_header.get(cols.header_key(text))
            if found is not None and found.key not in index:
                index[found.key] = position
        missing = [f.header for f in fields if f.required and f.key not in index]
        if missing:
            other = _purpose_of_header(header, chosen=purpose)
            if other is not None:
                # The registrar chose the wrong kind in the form: the file is fine as it is.
                raise HeaderError(
                    "wrong_purpose",
                    translated(
                        _(
                            "This file is laid out as the template “%(found)s”, but the kind "
                            "of import chosen was “%(chosen)s”: choose “%(found)s” as the kind "
                            "of import and upload the same file again."
                        ),
                        {
                            "found": cols.PURPOSE_LABELS[other],
                            "chosen": cols.PURPOSE_LABELS[purpose],
                        },
                    ),
                    columns=missing,
                    purpose=other,
                )
            raise HeaderError(
                "missing_columns",
                translated(
                    _(
                        "The first row must hold the template's headers; missing: %(columns)s. "
                        "Download the template and copy the data into it."
                    ),
                    {"columns": "、".join(missing)},
                ),
                columns=missing,
            )
        return cls(fields=fields, index=index)

    def document_columns(self) -> frozenset[int]:
        """The columns of ID numbers and student numbers."""
        return frozenset(
            self.index[f.key]
            for f in self.fields
            if f.kind == cols.DOCUMENT and f.key in self.index
        )

    def column_of(self, key: str, code: str | None = None, cells: Sequence[Any] = ()) -> int:
        """The column an error of a validator's field key belongs to (its code and the row's
        cells place an error of the whole family)."""
        if key in self.index:
            return self.index[key]
        if key == "family" and code == "guardian_required":
            # Nobody is marked guardian: the cell to fill is the first named member's 是否监护人,
            # not a relation that is right as it is.
            for n in range(cols.FAMILY_BLOCKS):
                name, guardian = (
                    self.index.get(f"family.{n}.{a}") for a in ("name", "is_guardian")
                )
                named = name is not None and name < len(cells) and cols.text_of(cells[name])
                if named and guardian is not None:
                    return guardian
        if key.startswith("family"):
            return self.index.get("family.0.relation", -1)
        return -1
