"""A table the export tests of core (the pure file writing) and of exports (permissions and audit)
both write: hostile cells, identity numbers in every place, and the reading back of an XLSX."""

from __future__ import annotations

import io
import zipfile

from xueji.core.exports import MASK_ID_NUMBER, MASK_STUDENT_NUMBER, Column

RESIDENT = "11010520100305002X"

COLUMNS = [
    Column("name", "Name"),
    Column("id_number", "ID number", MASK_ID_NUMBER),
    Column("student_number", "Student number", MASK_STUDENT_NUMBER),
    Column("note", "Note"),
    Column("count", "Count"),
]
ROWS = [
    {
        "name": '=HYPERLINK("http://evil.example","点这里")',
        "id_number": RESIDENT,
        "student_number": "G" + RESIDENT,
        "note": f"mentions {RESIDENT} in passing",
        "count": -3,
    },
    {"name": "张春铭", "id_number": None, "student_number": "", "note": "@SUM(A1)", "count": 7},
]


def xlsx_parts(content: bytes) -> tuple[str, str]:
    """The first sheet's XML and the shared strings of an XLSX file."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return (
            archive.read("xl/worksheets/sheet1.xml").decode(),
            archive.read("xl/sharedStrings.xml").decode(),
        )
