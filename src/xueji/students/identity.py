"""Identity numbers at rest: sealed (AES-GCM), indexed (keyed HMAC) and masked for display.

A student number and every identity document number is stored three ways: the sealed value,
readable only through an audited reveal; a blind index for exact lookup and uniqueness; and the
masked form (G440304********0012) that lists and screens show. Nothing stores the plain value.
"""

from __future__ import annotations

from xueji.core.crypto import blind_index, decrypt, encrypt
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
