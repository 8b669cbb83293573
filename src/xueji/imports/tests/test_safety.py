"""Files are refused before any spreadsheet library opens them: size, kind, zip bombs, XML
entities; refusals are quick and use bounded memory."""

import io
import time
import tracemalloc
import zipfile

import pytest
from django.utils.translation import override

from xueji.imports import safety
from xueji.imports.models import ImportJob, JobState
from xueji.imports.tests.sheets import csv_bytes, row_of, xls_bytes, xlsx_bytes


def _rezip(content: bytes, replace: dict[str, bytes], add: dict[str, bytes] | None = None) -> bytes:
    """The workbook with some parts replaced or added."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def _check(content: bytes) -> safety.Sniffed:
    return safety.check_upload(io.BytesIO(content), len(content), filename="")


def _refused_quickly(content: bytes, code: str) -> safety.UnsafeFile:
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(safety.UnsafeFile) as refused:
        _check(content)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert refused.value.code == code
    assert elapsed < 2.0
    assert peak < 16 * 2**20
    return refused.value


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>"""


def test_a_billion_laughs_xlsx_is_refused_quickly_with_bounded_memory():
    content = _rezip(xlsx_bytes([row_of()]), {"xl/worksheets/sheet1.xml": BILLION_LAUGHS})
    _refused_quickly(content, "xml_entities")


def test_an_external_entity_in_shared_strings_is_refused():
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><sst/>'
    content = _rezip(xlsx_bytes([row_of()]), {"xl/sharedStrings.xml": xxe})
    _refused_quickly(content, "xml_entities")


def test_a_zip_bomb_is_refused_quickly_with_bounded_memory(tmp_path):
    """A 256 MB sheet of zeros that compresses to 250 KB: the directory gives it away."""
    path = tmp_path / "bomb.xlsx"
    chunk = b"\0" * 2**20
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", b"<Types/>")
        with bomb.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(256):
                member.write(chunk)
    content = path.read_bytes()
    assert len(content) < 3 * 2**20
    _refused_quickly(content, "zip_bomb")


def test_a_zip_of_too_many_members_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        for n in range(safety.MAX_ZIP_MEMBERS + 1):
            archive.writestr(f"x/{n}.bin", b"")
    _refused_quickly(out.getvalue(), "zip_bomb")


def test_a_member_inflating_past_its_declared_size_is_refused():
    """A directory that lies about sizes: the stream is cut at the declared size."""
    content = xlsx_bytes([row_of()])
    raw = bytearray(content)
    # Patch the central directory's uncompressed size of the sheet down to 10 bytes.
    offset = content.find(b"xl/worksheets/sheet1.xml", content.find(b"PK\x01\x02")) - 46
    raw[offset + 24 : offset + 28] = (10).to_bytes(4, "little")
    with pytest.raises(safety.UnsafeFile):
        _check(bytes(raw))


def test_the_kind_is_sniffed_from_the_content_not_the_name():
    assert _check(xlsx_bytes([row_of()])).kind == "xlsx"
    assert _check("姓名,性别\r\n张三,1\r\n".encode("gbk")) == safety.Sniffed("csv", "gb18030")
    assert _check("姓名,性别\r\n张三,1\r\n".encode("utf-8-sig")) == safety.Sniffed(
        "csv", "utf-8-sig"
    )
    assert _check(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512).kind == "xls"
    with pytest.raises(safety.UnsafeFile) as refused:
        _check(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff")  # a Windows program
    assert refused.value.code == "not_a_spreadsheet"
    with override("en"):
        assert "a Windows program" in str(refused.value.message)
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("readme.txt", b"hello")
    with pytest.raises(safety.UnsafeFile) as refused:
        _check(plain_zip.getvalue())
    assert refused.value.code == "not_a_spreadsheet"


def test_a_word_document_is_refused_as_not_a_spreadsheet():
    """A .docx is the same kind of zip as an .xlsx; its content types say it is not one."""
    word = _rezip(
        xlsx_bytes([row_of()]),
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/content-types"><Override PartName="/word/'
            b'document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            b'wordprocessingml.document.main+xml"/></Types>'
        },
    )
    with pytest.raises(safety.UnsafeFile) as refused:
        _check(word)
    assert refused.value.code == "not_a_spreadsheet"
    assert "Word" in str(refused.value.message)


def test_size_limit(settings):
    settings.XUEJI_IMPORT_MAX_MB = 50
    with pytest.raises(safety.UnsafeFile) as refused:
        safety.check_upload(io.BytesIO(b"x"), 50 * 2**20 + 1, filename="")
    assert refused.value.code == "file_too_large"
    with pytest.raises(safety.UnsafeFile) as refused:
        safety.check_upload(io.BytesIO(b""), 0, filename="")
    assert refused.value.code == "file_empty"


@pytest.mark.django_db
def test_a_sheet_declaring_a_huge_used_range_is_read_by_its_rows(upload):  # type: ignore[no-untyped-def]
    """What a sheet declares at its top is not trusted either way: the rows are read in slices,
    each checked for its own range (test_xlsx_slices)."""
    from xueji.imports.tests.sheets import header

    content = xlsx_bytes([row_of()])
    source = zipfile.ZipFile(io.BytesIO(content))
    sheet = source.read("xl/worksheets/sheet1.xml")
    last = chr(64 + len(header()) // 26) + chr(65 + len(header()) % 26 - 1)
    huge = sheet.replace(
        b'<dimension ref="A1:', b'<dimension ref="A1:' + last.encode() + b'9999999" x="', 1
    )
    declared = _rezip(content, {"xl/worksheets/sheet1.xml": huge})
    assert _check(declared).kind == "xlsx"
    job = upload(declared)
    assert job.state == "imported", (job.message, job.errors)
    assert job.rows_written == 1


def test_an_xls_or_ods_too_large_to_read_whole_is_refused_with_advice(monkeypatch):  # type: ignore[no-untyped-def]
    """calamine reads these two kinds whole: above their limit the registrar is told to save
    the file as .xlsx or CSV, which are read a part at a time."""
    from xueji.imports.tests.sheets import xls_bytes

    xls = xls_bytes([row_of() for _ in range(30)])
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", b"<office:document-content/>" + b" " * 50_000)
    assert _check(xls).kind == "xls" and _check(ods.getvalue()).kind == "ods"
    monkeypatch.setattr(safety, "MAX_WHOLE_XLS_BYTES", len(xls) - 1)
    monkeypatch.setattr(safety, "MAX_WHOLE_ODS_CONTENT_BYTES", 50_000)
    for content in (xls, ods.getvalue()):
        with pytest.raises(safety.UnsafeFile) as refused:
            _check(content)
        assert refused.value.code == "read_whole_too_large"
        assert ".xlsx" in str(refused.value.message) and "CSV" in str(refused.value.message)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filename", "named"),
    [("students.xlsx", "Excel (.xlsx)"), ("学生.XLS", "Excel (.xls)"), ("s.ods", "OpenDocument")],
)
def test_a_text_file_named_as_a_workbook_is_refused_saying_what_it_is(upload, filename, named):  # type: ignore[no-untyped-def]
    """A CSV renamed to .xlsx (or another system's text export saved as .xls) was read as CSV
    and answered about its header; the registrar is told the name and the content disagree."""
    with pytest.raises(safety.UnsafeFile) as refused:
        upload(csv_bytes([row_of()]), filename=filename)
    assert refused.value.code == "name_kind_mismatch"
    with override("en"):
        message = str(refused.value.message)
    assert f"name says {named}" in message and "content is a text (CSV) file" in message
    assert ".csv" in message
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filename", "make", "content"),
    [
        ("students.csv", xlsx_bytes, "Excel (.xlsx)"),
        ("students.CSV", xls_bytes, "Excel (.xls)"),
        ("students.txt", xlsx_bytes, "Excel (.xlsx)"),
    ],
)
def test_a_workbook_named_as_csv_is_refused_saying_what_it_is(upload, filename, make, content):  # type: ignore[no-untyped-def]
    with pytest.raises(safety.UnsafeFile) as refused:
        upload(make([row_of()]), filename=filename)
    assert refused.value.code == "name_kind_mismatch"
    with override("en"):
        message = str(refused.value.message)
    assert (
        "name says a text (CSV) file" in message
        and f"content is a spreadsheet, {content}" in message
    )
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filename", "make"),
    [
        ("students.xls", xlsx_bytes),  # a workbook under another workbook's name: same cells
        ("students.xlsx", xls_bytes),
        ("students", csv_bytes),  # no ending: the content alone decides, as before
        ("students.dat", csv_bytes),
    ],
)
def test_a_name_that_does_not_contradict_the_content_imports(upload, school, filename, make):  # type: ignore[no-untyped-def]
    job = upload(make([row_of()]), filename=filename)
    assert job.state == JobState.IMPORTED, (job.message, job.errors)


def test_without_a_name_only_the_content_counts():
    """Bytes with no name (filename="") are judged by their content alone."""
    content = csv_bytes([row_of()])
    assert _check(content).kind == "csv"
    with pytest.raises(safety.UnsafeFile):
        safety.check_upload(io.BytesIO(content), len(content), filename="students.xlsx")


# ---- XML parts in another encoding (issue 18.9) ----------------------------------------------

_WORKBOOK_DTD = """<?xml version="1.0" encoding="UTF-16"?>
<!DOCTYPE workbook [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>"""


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-16-le", b""),  # no byte order mark: the declaration's first bytes say it
        ("utf-16-be", b""),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
        ("utf-32-be", b""),
    ],
)
def test_a_doctype_in_a_utf16_or_utf32_part_is_refused_as_an_entity_declaration(encoding, bom):  # type: ignore[no-untyped-def]
    part = bom + _WORKBOOK_DTD.encode(encoding)
    assert b"<!DOCTYPE" not in part  # what the byte scan looked for
    content = _rezip(xlsx_bytes([row_of()]), {"xl/workbook.xml": part})
    refused = _refused_quickly(content, "xml_entities")
    # Named by the scan, not by the parser's "cannot be read: workbook" after it.
    with override("en"):
        assert "entity declarations" in str(refused.message)
        assert "xl/workbook.xml" in str(refused.message)
    with override("zh-hans"):
        assert "XML 实体声明" in str(refused.message) and "xl/workbook.xml" in str(refused.message)


def test_a_utf16_workbook_without_a_doctype_still_passes_the_scan():  # type: ignore[no-untyped-def]
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([row_of()])))
    text = source.read("xl/workbook.xml").decode("utf-8")
    text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    part = b"\xff\xfe" + text.encode("utf-16-le")
    content = _rezip(xlsx_bytes([row_of()]), {"xl/workbook.xml": part})
    assert _check(content).kind == "xlsx"


@pytest.mark.parametrize("declared", ["UTF-7", "IBM037", "x-unknown-8"])
def test_a_part_in_an_encoding_that_can_hide_the_markers_is_refused(declared):  # type: ignore[no-untyped-def]
    part = f'<?xml version="1.0" encoding="{declared}"?><workbook/>'.encode("ascii")
    content = _rezip(xlsx_bytes([row_of()]), {"xl/workbook.xml": part})
    with pytest.raises(safety.UnsafeFile) as refused:
        _check(content)
    assert refused.value.code == "xml_encoding" and declared in str(refused.value.message)


def test_an_ascii_compatible_declared_encoding_is_scanned_as_bytes():  # type: ignore[no-untyped-def]
    part = b'<?xml version="1.0" encoding="GBK"?><!DOCTYPE x><workbook/>'
    content = _rezip(xlsx_bytes([row_of()]), {"xl/workbook.xml": part})
    _refused_quickly(content, "xml_entities")


# ---- what a file really is (issue 18.9) ------------------------------------------------------

ASCII_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << >>\n%%EOF\n"


def _refusal(content: bytes, filename: str) -> safety.UnsafeFile:
    with pytest.raises(safety.UnsafeFile) as refused:
        safety.check_upload(io.BytesIO(content), len(content), filename=filename)
    return refused.value


def test_an_ascii_pdf_named_xlsx_is_named_a_pdf_not_a_csv():  # type: ignore[no-untyped-def]
    refused = _refusal(ASCII_PDF, "学生名单.xlsx")
    assert refused.code == "not_a_spreadsheet"
    with override("en"):
        message = str(refused.message)
    assert "Excel (.xlsx)" in message and "a PDF document" in message
    assert "CSV" not in message.split("save")[0]
    with override("zh-hans"):
        assert "PDF 文档" in str(refused.message)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "a PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
        (b"GIF89a" + b"\0" * 10, "a GIF image"),
        (b"Rar!\x1a\x07\x00", "a RAR archive"),
        (b"{\\rtf1\\ansi x}", "an RTF document"),
        ("<html><body><table><tr><td>姓名</td></tr></table></body></html>".encode(), "a web page"),
        (
            b'<?xml version="1.0"?>\n'
            b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>',
            "an Excel 2003 XML spreadsheet",
        ),
    ],
)
def test_each_kind_of_file_is_named(content, what):  # type: ignore[no-untyped-def]
    for filename in ("data.xls", "data.csv", ""):
        refused = _refusal(content, filename)
        assert refused.code == "not_a_spreadsheet"
        with override("en"):
            assert what in str(refused.message)
        with override("zh-hans"):
            assert "不是电子表格" in str(refused.message)


def test_a_zip_that_holds_a_workbook_says_to_unzip_it():  # type: ignore[no-untyped-def]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("一年级/学生.xlsx", xlsx_bytes([row_of()]))
    refused = _refusal(archive.getvalue(), "学生.zip")
    assert refused.code == "zipped_spreadsheet"
    with override("en"):
        assert "学生.xlsx" in str(refused.message) and "Unzip" in str(refused.message)
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as out:
        out.writestr("readme.txt", b"hello")
    refused = _refusal(plain.getvalue(), "x.xlsx")
    with override("en"):
        assert "a ZIP archive that is not a workbook" in str(refused.message)


def test_a_utf16_text_file_is_named_as_such():  # type: ignore[no-untyped-def]
    content = "姓名\t性别\r\n".encode("utf-16")
    refused = _refusal(content, "data.csv")
    assert refused.code == "csv_encoding"
