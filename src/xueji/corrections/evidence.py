"""Evidence uploads: JPG, PNG or PDF, 2 MB each, the type sniffed from the content (never the
name or the browser's word), images refused when their declared size would explode in memory.
The content is kept encrypted."""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from xueji.core.crypto import decrypt, encrypt
from xueji.corrections.models import EVIDENCE_MAX_BYTES

MAX_FILES = 5
# A decompression bomb declares a huge picture in a small file: refuse beyond 50 megapixels.
MAX_PIXELS = 50_000_000
CONTEXT = "correction.evidence"

_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_UNSAFE_NAME = re.compile(r"[^\w.\-() \u4e00-\u9fff]")


@dataclass(frozen=True)
class Upload:
    """A file as received: its name and (at most 2 MB + 1 byte of) its content."""

    name: str
    content: bytes


@dataclass(frozen=True)
class CheckedFile:
    file_name: str
    content_type: str
    size: int
    sha256: str
    content: bytes


def sniff(content: bytes) -> str | None:
    """The type the content really has: image/jpeg, image/png, application/pdf, or None."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _png_size(content: bytes) -> tuple[int, int] | None:
    if len(content) < 24 or content[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", content[16:24])
    return width, height


def _jpeg_size(content: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(content):
        if content[index] != 0xFF:
            return None
        marker = content[index + 1]
        if marker == 0xFF:  # fill byte
            index += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            index += 2
            continue
        (length,) = struct.unpack(">H", content[index + 2 : index + 4])
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", content[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None


def safe_file_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "evidence"
    return _UNSAFE_NAME.sub("_", base)[-128:]


def check_upload(upload: Upload) -> CheckedFile:
    """The file, checked before it is opened by anyone: size, real type, picture size."""
    size = len(upload.content)
    if size == 0:
        raise ValidationError(_("%(name)s is empty."), code="empty", params={"name": upload.name})
    if size > EVIDENCE_MAX_BYTES:
        raise ValidationError(
            _("%(name)s is larger than 2 MB."), code="too_large", params={"name": upload.name}
        )
    content_type = sniff(upload.content)
    if content_type is None:
        raise ValidationError(
            _("%(name)s is not a JPG, PNG or PDF file."),
            code="file_type",
            params={"name": upload.name},
        )
    dimensions = None
    if content_type == "image/png":
        dimensions = _png_size(upload.content)
    elif content_type == "image/jpeg":
        dimensions = _jpeg_size(upload.content)
    if content_type != "application/pdf" and (
        dimensions is None or dimensions[0] * dimensions[1] > MAX_PIXELS or 0 in dimensions
    ):
        raise ValidationError(
            _("%(name)s is not a readable picture of a reasonable size."),
            code="image_size",
            params={"name": upload.name},
        )
    return CheckedFile(
        file_name=safe_file_name(upload.name),
        content_type=content_type,
        size=size,
        sha256=hashlib.sha256(upload.content).hexdigest(),
        content=upload.content,
    )


def seal(content: bytes) -> str:
    """The content encrypted for storage (AES-GCM)."""
    return encrypt(base64.b64encode(content).decode(), context=CONTEXT)


def unseal(sealed: str) -> bytes:
    return base64.b64decode(decrypt(sealed, context=CONTEXT))
