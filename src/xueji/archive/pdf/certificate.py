"""The certificate's PDF: one A4 page with the facts in words, a QR code to the public page, and
the canonical form of the facts with the signature printed beneath (so that anyone may check it
with any Ed25519 tool); the same facts and signature are in the PDF's metadata (the document
information entry /XuejiCertificate: base64 of UTF-8 JSON {"algorithm", "facts", "signature"}),
which `xueji certificate verify FILE.pdf` reads."""

from __future__ import annotations

import base64
import io
import json
from functools import lru_cache
from typing import Any

import qrcode
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfdoc import PDFDate, PDFDictionary, PDFInfo, PDFName, PDFString
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from xueji.archive.pdf.fonts import cjk_font, printable
from xueji.archive.signing import ALGORITHM, canonical

METADATA_KEY = "XuejiCertificate"
WIDTH, HEIGHT = A4
MARGIN = 20 * mm
# One mask for every code (qrcode would otherwise try all eight to choose): any mask decodes.
MASK_PATTERN = 4


def envelope(facts: dict[str, Any], signature: str) -> dict[str, Any]:
    return {"algorithm": ALGORITHM, "facts": facts, "signature": signature}


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code of `data` drawn as squares (no image), `size` wide, lower left at x, y: one
    rectangle per run of dark modules in a row."""
    code = qrcode.QRCode(
        border=2, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=MASK_PATTERN
    )
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    cell = size / len(matrix)
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    path = canvas.beginPath()
    for row, cells in enumerate(matrix):
        top = y + size - (row + 1) * cell
        column = 0
        while column < len(cells):
            if not cells[column]:
                column += 1
                continue
            start = column
            while column < len(cells) and cells[column]:
                column += 1
            path.rect(x + start * cell, top, (column - start) * cell, cell)
    canvas.drawPath(path, stroke=0, fill=1)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width` (CJK text breaks anywhere)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        used = 0.0
        for char in paragraph:
            advance = _char_width(char, font) * size / 1000
            if line and used + advance > width:
                lines.append("".join(line))
                line, used = [], 0.0
            line.append(char)
            used += advance
        lines.append("".join(line))
    return lines


@lru_cache(maxsize=8192)
def _char_width(char: str, font: str) -> float:
    """A character's advance in thousandths of the font size."""
    return stringWidth(char, font, 1000)


def _schools_lines(facts: dict[str, Any]) -> list[str]:
    lines = []
    for stay in facts["schools"]:
        if stay["to"] is None:
            lines.append(f"自 {stay['from']} 起在 {stay['school']} 就读至今")
        else:
            lines.append(f"{stay['from']} 至 {stay['to']} 在 {stay['school']} 就读")
    return lines or ["（无就读记录）"]


def certificate_lines(facts: dict[str, Any]) -> list[tuple[str, str]]:
    """The facts in words, as (label, value) rows."""
    rows = [
        ("姓名", facts["name"]),
        ("身份证件号（隐去部分）", facts["id_number_masked"] or "（无证件）"),
        ("学籍号", facts["student_number"]),
    ]
    for index, line in enumerate(_schools_lines(facts)):
        rows.append(("就读经历" if index == 0 else "", line))
    rows.append(("当前学籍状态", facts["status"]))
    years = facts.get("province_years")
    if years:
        since = years["since"] or "—"
        rows.append(
            (
                "在省连续学籍年限",
                f"{years['province']}：自 {since} 起连续 {years['years']} 年"
                f"（计 {years['days']} 天，{years['rule']}，已扣除 {years['excluded_days']} 天）",
            )
        )
    issuer = facts["issuer"]
    rows += [
        ("签发学校", f"{issuer['school']}（{issuer['school_code']}）"),
        ("所在县区", f"{issuer['county']}（{issuer['county_code']}）"),
        ("签发日期", facts["issued_on"]),
        ("证明编号", facts["certificate_id"]),
    ]
    return rows


def certificate_pdf(facts: dict[str, Any], signature: str, verify_url: str) -> bytes:
    """The certificate's PDF, with the signed facts attached."""
    font = cjk_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"学籍证明 {facts['certificate_id']}")
    canvas.setSubject("学籍证明 (certificate of registration), signed with Ed25519")
    canvas.setAuthor(facts["issuer"]["school"])
    y = HEIGHT - MARGIN - 10 * mm
    canvas.setFont(font, 22)
    canvas.drawCentredString(WIDTH / 2, y, "学籍证明")
    y -= 14 * mm
    canvas.setFont(font, 11)
    canvas.drawString(MARGIN, y, printable("兹证明以下学生的学籍信息属实："))
    y -= 10 * mm
    label_width = 44 * mm
    text_width = WIDTH - 2 * MARGIN - label_width
    for label, value in certificate_lines(facts):
        canvas.drawString(MARGIN, y, label)
        for line in wrap(printable(str(value)), font, 11, text_width):
            canvas.drawString(MARGIN + label_width, y, line)
            y -= 6.5 * mm
    # The QR code to the public page, and its address written out.
    qr_size = 38 * mm
    qr_y = y - qr_size - 4 * mm
    draw_qr(canvas, verify_url, WIDTH - MARGIN - qr_size, qr_y, qr_size)
    canvas.setFont(font, 9)
    text_y = qr_y + qr_size - 4 * mm
    for line in wrap(
        "扫描二维码或打开以下网址，查看本证明是否仍然有效（无需登录）：",
        font,
        9,
        WIDTH - 2 * MARGIN - qr_size - 6 * mm,
    ) + wrap(verify_url, font, 9, WIDTH - 2 * MARGIN - qr_size - 6 * mm):
        canvas.drawString(MARGIN, text_y, line)
        text_y -= 5 * mm
    # The canonical form and the signature, for any Ed25519 tool.
    y = qr_y - 8 * mm
    canvas.setFont(font, 7)
    notes = [
        f"签名算法 {ALGORITHM}；密钥编号 {facts['key_id']}；公钥见 {_keys_url(verify_url)}",
        "签名对象：下列 JSON 文本（键排序、无空白、UTF-8 编码）：",
    ]
    body = canonical(facts).decode("utf-8")
    for note in notes:
        canvas.drawString(MARGIN, y, note)
        y -= 4 * mm
    for line in wrap(printable(body), font, 7, WIDTH - 2 * MARGIN):
        canvas.drawString(MARGIN, y, line)
        y -= 3.6 * mm
    canvas.drawString(MARGIN, y - 1 * mm, f"签名（Base64）：{signature}")
    canvas.showPage()
    _carry(canvas, envelope(facts, signature))
    canvas.save()
    return buffer.getvalue()


def _keys_url(verify_url: str) -> str:
    marker = "/certificates/v/"
    base = verify_url.split(marker, 1)[0] if marker in verify_url else ""
    return f"{base}/certificates/keys.json"


class _Info(PDFInfo):
    """The document information of ReportLab with one entry more: the signed facts."""

    envelope = ""

    def format(self, document: Any) -> bytes:
        entries = {
            "Title": PDFString(self.title),
            "Author": PDFString(self.author),
            "CreationDate": PDFDate(ts=document._timeStamp, dateFormatter=self._dateFormatter),
            "Producer": PDFString(self.producer),
            "Creator": PDFString(self.creator),
            "Subject": PDFString(self.subject),
            "Keywords": PDFString(self.keywords),
            "Trapped": PDFName(self.trapped),
            METADATA_KEY: PDFString(self.envelope),
        }
        entries["ModDate"] = entries["CreationDate"]
        formatted: bytes = PDFDictionary(entries).format(document)
        return formatted


def _carry(canvas: Canvas, content: dict[str, Any]) -> None:
    info = _Info()
    info.__dict__.update(canvas._doc.info.__dict__)
    info.envelope = base64.b64encode(
        json.dumps(content, ensure_ascii=False, sort_keys=True).encode("utf-8")
    ).decode()
    canvas._doc.info = info


class NotACertificate(ValueError):
    """The PDF carries no certificate of the registry."""


def read_envelope(pdf: bytes) -> dict[str, Any]:
    """The facts and signature a certificate's PDF carries in its metadata."""
    try:
        metadata: Any = PdfReader(io.BytesIO(pdf)).metadata or {}
        encoded = metadata.get("/" + METADATA_KEY)
    except Exception as error:  # pypdf raises many kinds on a file that is not a PDF
        raise NotACertificate(str(error)) from None
    if not encoded:
        raise NotACertificate(f"no /{METADATA_KEY} in the document information")
    try:
        content: dict[str, Any] = json.loads(base64.b64decode(str(encoded), validate=True))
    except ValueError as error:
        raise NotACertificate(str(error)) from None
    if not isinstance(content.get("facts"), dict) or not isinstance(content.get("signature"), str):
        raise NotACertificate("the metadata holds no facts and signature")
    return content
