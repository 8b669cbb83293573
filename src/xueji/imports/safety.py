"""Checks on an uploaded file before any spreadsheet library opens it.

- Size: at most XUEJI_IMPORT_MAX_MB (50 MB unless configured).
- Kind, from the bytes, not the name or the browser's content type: an .xlsx/.ods is a zip
  (PK\\x03\\x04) holding [Content_Types].xml (or mimetype for .ods), an .xls is an OLE2 compound
  file (D0 CF 11 E0), anything else must be text that decodes as UTF-8 or GB18030 (CSV).
- Name against content: a file named as a workbook (.xlsx, .xlsm, .xls, .ods) whose content is
  text, or named as text (.csv, .txt) whose content is a workbook, is refused saying both. It
  is not what the registrar believes it is (often another system's export, renamed or saved
  with the wrong ending); read anyway, the import complained about its header, pointing away
  from the cause. Renaming it, or saving it again, is the registrar's one-step fix.
- Zip bombs: the zip's directory is read (infolist, nothing extracted): member count, declared
  total uncompressed size and per-member compression ratio are bounded. The declared sizes are
  then enforced while the XML parts are streamed (a member whose data inflates past its
  declaration is refused), in bounded reads, so memory stays flat whatever the file claims.
- XML entity attacks (billion laughs, external entities): any XML part with a DOCTYPE or ENTITY
  declaration is refused; spreadsheets never need one. A part's encoding is found first (its
  byte order mark, or the first bytes of its XML declaration, as XML 1.0 appendix F does): a
  UTF-16 or UTF-32 part is decoded as it is scanned (its "<!DOCTYPE" is not the ASCII bytes),
  an ASCII-compatible one (UTF-8, GBK, Latin-1...) scanned as bytes, and a part in an encoding
  that can hide the markers (UTF-7, EBCDIC) or that this check does not know is refused.
- What a file that is not a spreadsheet really is, from its first bytes (PDF, image, archive,
  program, a zip that holds a workbook, a web page or an Excel 2003 XML file saved as "Excel"),
  is named in the refusal, with the name it was given.
- Memory: an .xlsx is read a slice of rows at a time (xueji.imports.xlsx), its shared strings
  kept in a temporary file; a slice whose used range exceeds xlsx.MAX_SHEET_CELLS, or whose
  strings exceed xlsx.MAX_SLICE_STRINGS_BYTES, is refused before calamine fills it; CSV is read
  line by line. calamine reads an .xls or an .ods whole, so those are refused here above a size
  that keeps the whole sheet in memory under about 300 MB (MAX_WHOLE_XLS_BYTES, and
  MAX_WHOLE_ODS_CONTENT_BYTES of cells' XML), with the advice to save them as .xlsx or CSV; so
  is an .xlsx the slicer cannot cut (reading.open_sheet, MAX_WHOLE_XLSX_XML_BYTES).
"""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from xueji.core.errors import ServiceError, translated

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 2_000
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 200
# A member smaller than this may have any ratio (a tiny, highly compressible part is harmless).
RATIO_FLOOR_BYTES = 1024 * 1024
READ_CHUNK = 64 * 1024
# calamine's copy of a sheet read whole takes about 120 bytes a cell; a BIFF8 cell is 6 to 14
# bytes of the file (65,535 rows of the students template: 42 MB of .xls, 360 MB read), an ODS
# cell about 100 bytes of content.xml.
MAX_WHOLE_XLS_BYTES = 24 * 2**20
MAX_WHOLE_ODS_CONTENT_BYTES = 128 * 2**20
# An .xlsx the slicer cannot cut (xlsx.NotSliceable) is read whole too: about 40 bytes of
# worksheet XML a cell.
MAX_WHOLE_XLSX_XML_BYTES = 64 * 2**20

XLSX, XLS, ODS, CSV = "xlsx", "xls", "ods", "csv"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_MARKERS = (b"<!doctype", b"<!entity")
_TEXT_MARKERS = ("<!doctype", "<!entity")
# Byte order marks and XML declarations' first bytes, by encoding (XML 1.0, appendix F).
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_DECLARATIONS = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)
_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_CONTENT_TYPES_BYTES = 64 * 1024
_OTHER_OFFICE = rb"wordprocessingml|presentationml|ms-word|ms-powerpoint"
# What a file's name says it is, as a registrar reads it (the same in both languages).
_WORKBOOK_NAMES = {
    ".xlsx": "Excel (.xlsx)",
    ".xlsm": "Excel (.xlsm)",
    ".xls": "Excel (.xls)",
    ".ods": "OpenDocument (.ods)",
}
_TEXT_NAMES = (".csv", ".txt")


class UnsafeFile(ServiceError):
    """The upload is refused before it is opened (HTTP 400)."""


@dataclass(frozen=True)
class Sniffed:
    kind: str
    encoding: str = ""


def max_upload_bytes() -> int:
    """XUEJI_IMPORT_MAX_MB (default 50 MB: a school's 100,000-row workbook is about 15 MB)."""
    return int(getattr(settings, "XUEJI_IMPORT_MAX_MB", MAX_UPLOAD_BYTES // 2**20)) * 2**20


def check_size(size: int) -> None:
    limit = max_upload_bytes()
    if size > limit:
        raise UnsafeFile(
            "file_too_large",
            translated(_("The file is larger than %(limit)d MB."), {"limit": limit // 2**20}),
        )
    if size == 0:
        raise UnsafeFile("file_empty", _("The file is empty."))


# What a file that is not a spreadsheet is, from its first bytes (the registrar's words).
_FOREIGN = (
    (b"%PDF-", _("a PDF document")),
    (b"\x89PNG\r\n\x1a\n", _("a PNG image")),
    (b"\xff\xd8\xff", _("a JPEG image (a photo or a scan)")),
    (b"GIF87a", _("a GIF image")),
    (b"GIF89a", _("a GIF image")),
    (b"II*\x00", _("a TIFF image (a scan)")),
    (b"MM\x00*", _("a TIFF image (a scan)")),
    (b"RIFF", _("a media file")),
    (b"Rar!\x1a\x07", _("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", _("a 7-Zip archive")),
    (b"\x1f\x8b", _("a gzip archive")),
    (b"{\\rtf", _("an RTF document")),
    (b"\x7fELF", _("a program")),
)
# Text that is not a CSV: web systems' "Excel" exports are often a web page or Excel 2003 XML.
_HTML = re.compile(rb"^\s*<(?:!doctype\s+html|html|table|head|body|meta)\b", re.IGNORECASE)
_SPREADSHEET_2003 = b"urn:schemas-microsoft-com:office:spreadsheet"
_TEXT_HEAD_BYTES = 4096


def sniff(stream: IO[bytes], *, filename: str = "") -> Sniffed:
    """The file's kind from its content: xlsx, ods, xls or csv (with its text encoding); a file
    of another kind is refused naming what it is (and the name it was given)."""
    stream.seek(0)
    head = stream.read(_TEXT_HEAD_BYTES)
    stream.seek(0)
    if head.startswith(_ZIP):
        return Sniffed(_zip_kind(stream, filename))
    if head.startswith(_OLE2):
        return Sniffed(XLS)
    for magic, what in _FOREIGN:
        if head.startswith(magic):
            raise not_a_spreadsheet(what, filename)
    if head.startswith(b"MZ") and b"\0" in head[:512]:
        raise not_a_spreadsheet(_("a Windows program"), filename)
    text = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if _HTML.match(text):
        raise not_a_spreadsheet(_("a web page (HTML), as some systems save an export"), filename)
    if text.lstrip().startswith(b"<?xml") and _SPREADSHEET_2003 in head:
        raise not_a_spreadsheet(_("an Excel 2003 XML spreadsheet"), filename)
    return Sniffed(CSV, _text_encoding(stream, filename))


def not_a_spreadsheet(what: Any, filename: str) -> UnsafeFile:
    """The refusal of a file that is `what`, named `filename` (which may promise otherwise)."""
    ending = PurePath(filename).suffix.lower()
    named = _WORKBOOK_NAMES.get(ending) or (f"CSV ({ending})" if ending in _TEXT_NAMES else "")
    if named:
        message = translated(
            _(
                "The file's name says %(named)s, but its content is %(what)s, not a "
                "spreadsheet. Open the sheet in Excel or WPS and save it as .xlsx or CSV, and "
                "upload that file."
            ),
            {"named": named, "what": what},
        )
    else:
        message = translated(
            _(
                "This file is %(what)s, not a spreadsheet. Open the sheet in Excel or WPS and "
                "save it as .xlsx or CSV, and upload that file."
            ),
            {"what": what},
        )
    return UnsafeFile("not_a_spreadsheet", message, named=ending)


def _zip_kind(stream: IO[bytes], filename: str = "") -> str:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names:
                # Word and PowerPoint files are the same kind of zip: the content types say
                # which (read in a bounded piece: the bomb checks come after).
                with archive.open("[Content_Types].xml") as member:
                    types = member.read(_CONTENT_TYPES_BYTES)
                if b"spreadsheetml" in types or not re.search(_OTHER_OFFICE, types):
                    return XLSX
                raise UnsafeFile(
                    "not_a_spreadsheet",
                    _(
                        "This file is not a spreadsheet but another kind of Office document "
                        "(such as Word); save the sheet from Excel or WPS as .xlsx."
                    ),
                )
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    if member.read(100).startswith(b"application/vnd.oasis.opendocument.spread"):
                        return ODS
            inside = sorted(
                name
                for name in names
                if PurePath(name).suffix.lower() in (*_WORKBOOK_NAMES, ".csv")
            )
            if inside:
                raise UnsafeFile(
                    "zipped_spreadsheet",
                    translated(
                        _(
                            "This file is a ZIP archive holding %(inside)s. Unzip it and "
                            "upload the spreadsheet itself."
                        ),
                        {"inside": "、".join(PurePath(name).name for name in inside[:3])},
                    ),
                )
    except zipfile.BadZipFile:
        pass
    finally:
        stream.seek(0)
    raise not_a_spreadsheet(_("a ZIP archive that is not a workbook"), filename)


def _text_encoding(stream: IO[bytes], filename: str = "") -> str:
    """UTF-8 (with or without BOM) or GB18030 (a superset of GBK and GB2312), checked over the
    whole file in chunks; a binary file decodes as neither and is refused."""
    for encoding in ("utf-8-sig", "gb18030"):
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := stream.read(READ_CHUNK):
                if b"\0" in chunk:
                    raise UnicodeDecodeError(encoding, chunk, 0, 1, "NUL byte")
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        finally:
            stream.seek(0)
        return encoding
    stream.seek(0)
    head = stream.read(4)
    stream.seek(0)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnsafeFile(
            "csv_encoding",
            _(
                "This text file is in UTF-16 (Excel's “Unicode text”); save it as "
                "“CSV UTF-8” or as .xlsx."
            ),
        )
    raise UnsafeFile(
        "unknown_file_type",
        _("This is neither an Excel file (.xlsx, .xls) nor a CSV in UTF-8 or GBK."),
    )


def check_zip(stream: IO[bytes]) -> None:
    """Refuse a zip bomb or an XML part with a DOCTYPE/ENTITY, without extracting anything."""
    stream.seek(0)
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile:
        raise UnsafeFile("bad_zip", _("The file is damaged (not a readable zip).")) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise _bomb()
        total = 0
        for info in members:
            total += info.file_size
            if total > MAX_UNCOMPRESSED_BYTES:
                raise _bomb()
            if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise _bomb()
        for info in members:
            if info.filename.endswith((".xml", ".rels", ".vml")) or info.filename == "mimetype":
                _scan_xml(archive, info)
    stream.seek(0)


def xml_encoding(head: bytes) -> str:
    """The encoding of an XML document from its first bytes: "" for one whose ASCII
    characters are their ASCII bytes (UTF-8, GBK, Latin-1...), a codec name for UTF-16 and
    UTF-32; UnsafeFile for an encoding that may write "<!DOCTYPE" otherwise (UTF-7, EBCDIC) or
    that is unknown."""
    for prefix, encoding in (*_BOMS, *_DECLARATIONS):
        if head.startswith(prefix):
            return "" if encoding == "utf-8" else encoding
    declared = _DECLARED_ENCODING.match(head)
    if declared is None:
        return ""
    name = declared[1].decode("ascii").lower()
    try:
        ascii_compatible = "<!doctype <!entity".encode(name) == b"<!doctype <!entity"
    except LookupError:
        ascii_compatible = False
    if not ascii_compatible or name.replace("-", "").replace("_", "") in ("utf7", "utf16", "utf32"):
        raise UnsafeFile(
            "xml_encoding",
            translated(
                _(
                    "A part of the file is written in the encoding %(encoding)s, which is "
                    "refused; open the file in Excel or WPS and save it as .xlsx again."
                ),
                {"encoding": declared[1].decode("ascii")},
            ),
        )
    return ""


def _entities(part: str) -> UnsafeFile:
    return UnsafeFile(
        "xml_entities",
        translated(
            _(
                "The file contains XML entity declarations (<!DOCTYPE or <!ENTITY, in its part "
                "%(part)s), which are refused."
            ),
            {"part": part},
        ),
    )


def _scan_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Stream the part in bounded reads; stop at its declared size (zipfile itself refuses
    data longer than declared) and refuse any DTD, in the part's own encoding."""
    read = 0
    tail = b""
    text_tail = ""
    decoder = None
    try:
        with archive.open(info) as member:
            while chunk := member.read(READ_CHUNK):
                if read == 0:
                    encoding = xml_encoding(chunk[:1024])
                    if encoding:
                        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
                read += len(chunk)
                if read > info.file_size:
                    raise _bomb()
                if decoder is not None:
                    text = (text_tail + decoder.decode(chunk)).lower()
                    if any(marker in text for marker in _TEXT_MARKERS):
                        raise _entities(info.filename)
                    text_tail = text[-16:]
                    continue
                window = (tail + chunk).lower()
                if any(marker in window for marker in _MARKERS):
                    raise _entities(info.filename)
                tail = window[-16:]
    except zipfile.BadZipFile:
        raise UnsafeFile("bad_zip", _("The file is damaged (not a readable zip).")) from None


def _bomb() -> UnsafeFile:
    return UnsafeFile(
        "zip_bomb", _("The file expands to an unsafe size (possible zip bomb) and is refused.")
    )


def check_name(filename: str, sniffed: Sniffed) -> None:
    """Refuse a file whose name says workbook and whose content is text, or the other way
    round. Workbook kinds among themselves (an .xls name on .xlsx content) pass: they are read
    by their content and hold the same cells; so does a name without a known ending."""
    ending = PurePath(filename).suffix.lower()
    if ending in _WORKBOOK_NAMES and sniffed.kind == CSV:
        raise UnsafeFile(
            "name_kind_mismatch",
            translated(
                _(
                    "The file's name says %(named)s, but its content is a text (CSV) file. If "
                    "it is a CSV file, rename it to end in .csv; otherwise open it in Excel or "
                    "WPS and save it as .xlsx."
                ),
                {"named": _WORKBOOK_NAMES[ending]},
            ),
            named=ending,
            content=CSV,
        )
    if ending in _TEXT_NAMES and sniffed.kind != CSV:
        suffix = f".{sniffed.kind}"
        content = _WORKBOOK_NAMES[suffix]
        raise UnsafeFile(
            "name_kind_mismatch",
            translated(
                _(
                    "The file's name says a text (CSV) file (%(extension)s), but its content is "
                    "a spreadsheet, %(content)s. Rename it to end in %(suffix)s, or open it in "
                    "Excel or WPS and save it as CSV."
                ),
                {"extension": ending, "content": content, "suffix": suffix},
            ),
            named=ending,
            content=sniffed.kind,
        )


def check_upload(stream: IO[bytes], size: int, *, filename: str) -> Sniffed:
    """All checks in order; returns the sniffed kind of a file that may be opened. The name
    the file was given (the upload's, the command line's path) must not contradict its
    content; "" (bytes with no name) skips that check."""
    check_size(size)
    sniffed = sniff(stream, filename=filename)
    if filename:
        check_name(filename, sniffed)
    if sniffed.kind in (XLSX, ODS):
        check_zip(stream)
    if sniffed.kind == XLS and size > MAX_WHOLE_XLS_BYTES:
        raise _read_whole_too_large(".xls", size, MAX_WHOLE_XLS_BYTES)
    if sniffed.kind == ODS:
        with zipfile.ZipFile(stream) as archive:
            content = sum(i.file_size for i in archive.infolist() if i.filename == "content.xml")
        stream.seek(0)
        if content > MAX_WHOLE_ODS_CONTENT_BYTES:
            raise _read_whole_too_large(".ods", content, MAX_WHOLE_ODS_CONTENT_BYTES)
    return sniffed


def _read_whole_too_large(kind: str, size: int, limit: int) -> UnsafeFile:
    return UnsafeFile(
        "read_whole_too_large",
        translated(
            _(
                "This %(kind)s file is too large to be read at once (%(size)d MB, at most "
                "%(limit)d MB); save it as .xlsx or CSV, which are read a part at a time."
            ),
            {"kind": kind, "size": -(-size // 2**20), "limit": limit // 2**20},
        ),
    )
