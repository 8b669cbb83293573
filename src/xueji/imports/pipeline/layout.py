"""Which column of an upload holds which field: the header row read against the template of
the kind of import chosen (or recognised as another kind's)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from xueji.core.errors import ServiceError, translated
from xueji.imports import columns as cols
from xueji.imports.bounds import column_letters


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
    # Columns read past, by their headers: items of the national form the registry does not
    # keep, and columns of another kind of import's template (the import names them).
    unused: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    def of(cls, purpose: str, header: list[Any]) -> Layout:
        fields = cols.fields_of(purpose)
        by_header = {key: f for f in fields for key in cols.header_keys(f)}
        index: dict[str, int] = {}
        unknown: list[str] = []
        unused: list[str] = []
        for position, text in enumerate(header):
            key = cols.header_key(cols.text_of(text))
            found = by_header.get(key)
            if found is not None and found.key not in index:
                index[found.key] = position
            elif not key:
                continue  # a column without a header (often a blank one after the data)
            elif found or key in cols.NATIONAL_ITEMS_NOT_KEPT or cols.field_of_header(key):
                unused.append(cols.text_of(text))
            else:
                unknown.append(f"{cols.text_of(text)}（{column_letters(position + 1)}）")
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
        if unknown:
            raise HeaderError(
                "unknown_columns",
                translated(
                    _(
                        "The header row names columns this import does not know: %(columns)s. "
                        "Name them as the template or the national collection form does, or "
                        "delete them, and upload the file again."
                    ),
                    {"columns": "、".join(unknown)},
                ),
                columns=unknown,
            )
        return cls(fields=fields, index=index, unused=unused)

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
