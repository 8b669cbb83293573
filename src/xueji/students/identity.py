"""Identity numbers at rest: sealed (AES-GCM or SM4-GCM), indexed (keyed HMAC-SHA256 or
HMAC-SM3, xueji.core.suites) and masked for display.

A student number and every identity document number is stored three ways: the sealed value,
readable only through an audited reveal; a blind index for exact lookup and uniqueness; and the
masked form (G440304********0012) that lists and screens show. Nothing stores the plain value.

What is written carries the active suite's index (`number_index`, `document_index`); what looks
a number up asks for every held suite's (`number_indexes`, `document_indexes`), so that a record
whose index a change of suite has not yet recomputed is still found (xueji.students.sealing).
"""

from __future__ import annotations

from xueji.core.crypto import blind_index, blind_indexes, decrypt, encrypt
from xueji.core.idnumbers import mask_id_number, mask_student_number

STUDENT_NUMBER = "student.number"
STUDENT_ID_NUMBER = "student.id_number"
FAMILY_ID_NUMBER = "family.id_number"
# One blind-index space for every identity document number, the child's and the family's, so
# that the same person is recognised wherever their number appears.
DOCUMENT_INDEX = "document"


def number_index(number: str) -> str:
    return blind_index(number, context=STUDENT_NUMBER)


def document_index(id_doc_type: str, number: str) -> str:
    return blind_index(f"{id_doc_type}:{number}", context=DOCUMENT_INDEX)


def number_indexes(number: str) -> tuple[str, ...]:
    """A student number's index under every suite held (a lookup's `number_index__in`)."""
    return blind_indexes(number, context=STUDENT_NUMBER)


def document_indexes(id_doc_type: str, number: str) -> tuple[str, ...]:
    """A document number's index under every suite held (a lookup's `id_number_index__in`)."""
    return blind_indexes(f"{id_doc_type}:{number}", context=DOCUMENT_INDEX)


def student_number_fields(number: str) -> dict[str, str]:
    """Model field values for a student number."""
    return {
        "number_masked": mask_student_number(number),
        "number_sealed": encrypt(number, context=STUDENT_NUMBER),
        "number_index": number_index(number),
    }


def document_fields(id_doc_type: str, number: str, *, context: str) -> dict[str, str]:
    """Model field values for an identity document number (empty when there is none)."""
    if not number:
        return {"id_number_masked": "", "id_number_sealed": "", "id_number_index": ""}
    return {
        "id_number_masked": mask_id_number(number),
        "id_number_sealed": encrypt(number, context=context),
        "id_number_index": document_index(id_doc_type, number),
    }


def unseal(sealed: str, *, context: str) -> str:
    return decrypt(sealed, context=context) if sealed else ""
