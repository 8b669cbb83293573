"""Evidence files are checked before anyone opens them: size, the type sniffed from the content,
the declared picture size; the content is stored encrypted."""

import pytest
from django.core.exceptions import ValidationError

from xueji.corrections.evidence import (
    MAX_PIXELS,
    Upload,
    check_upload,
    safe_file_name,
    seal,
    sniff,
    unseal,
)
from xueji.corrections.models import EVIDENCE_MAX_BYTES

from .files import PDF, jpeg, png


@pytest.mark.parametrize(
    ("content", "kind"),
    [(png(), "image/png"), (jpeg(), "image/jpeg"), (PDF, "application/pdf"), (b"GIF89a", None)],
)
def test_the_type_comes_from_the_content(content, kind):
    assert sniff(content) == kind


def test_a_file_named_like_a_picture_but_holding_something_else_is_refused():
    with pytest.raises(ValidationError) as refused:
        check_upload(Upload("户口簿.jpg", b"MZ\x90\x00 an executable"))
    assert refused.value.code == "file_type"


def test_the_name_does_not_decide_the_type():
    checked = check_upload(Upload("scan.pdf", png()))
    assert checked.content_type == "image/png"


def test_files_over_2_mb_and_empty_files_are_refused():
    big = PDF + b"0" * (EVIDENCE_MAX_BYTES - len(PDF) + 1)
    with pytest.raises(ValidationError) as refused:
        check_upload(Upload("big.pdf", big))
    assert refused.value.code == "too_large"
    assert check_upload(Upload("max.pdf", big[:-1])).size == EVIDENCE_MAX_BYTES
    with pytest.raises(ValidationError):
        check_upload(Upload("empty.pdf", b""))


@pytest.mark.parametrize("make", [png, jpeg])
def test_a_decompression_bomb_is_refused_from_its_header(make):
    side = int(MAX_PIXELS**0.5) + 1
    with pytest.raises(ValidationError) as refused:
        check_upload(Upload("bomb", make(side, side)))
    assert refused.value.code == "image_size"
    assert check_upload(Upload("ok", make(2000, 1500))).size > 0


def test_a_truncated_picture_is_refused():
    with pytest.raises(ValidationError):
        check_upload(Upload("cut.png", png()[:15]))
    with pytest.raises(ValidationError):
        check_upload(Upload("cut.jpg", b"\xff\xd8\xff\xe0\x00"))


def test_file_names_lose_paths_and_odd_characters():
    assert safe_file_name("C:\\Users\\x\\户口簿 第1页.pdf") == "户口簿 第1页.pdf"
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name('a<b>"c".pdf') == "a_b__c_.pdf"


def test_the_stored_content_is_encrypted_and_comes_back_whole():
    sealed = seal(PDF)
    assert b"%PDF" not in sealed.encode() and "PDF" not in sealed
    assert unseal(sealed) == PDF
