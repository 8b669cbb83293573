"""Certificates of registration: issued and signed, read back from the PDF (text with CJK, the QR
code decoded from the rendered page and followed), verified offline, refused when tampered with,
revoked by the registrar or by a key-data correction, rate limited on the public page."""

from __future__ import annotations

import base64
import copy
import io
import json
import subprocess
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from django.core.management import call_command
from django.test import Client

from xueji.archive.models import Certificate
from xueji.archive.pdf.certificate import certificate_pdf, read_envelope
from xueji.archive.services.certificates import (
    certificate_issue,
    certificate_revoke,
    verify_url,
)
from xueji.archive.signing import (
    canonical,
    check_signature,
    keys_by_id,
    published_keys,
    signing_key_rotate,
)
from xueji.audit.models import AuditEntry
from xueji.core.errors import FieldErrors, NotFound
from xueji.corrections.evidence import Upload
from xueji.corrections.services import (
    correction_county_decision,
    correction_school_decision,
    correction_submit,
)

pytestmark = pytest.mark.django_db

BASE = "http://testserver"


def _issue(school: dict[str, Any], **kwargs: Any) -> Certificate:
    return certificate_issue(
        actor=school["registrar"],
        student_id=school["pupil"].pk,
        requested_by="张伟",
        **kwargs,
    )


def _pdf(certificate: Certificate) -> bytes:
    return certificate_pdf(
        certificate.facts, certificate.signature, verify_url(BASE, certificate.token)
    )


def test_the_facts_are_signed_and_verify_with_the_published_keys(school):
    certificate = _issue(school)
    facts = certificate.facts
    assert facts["name"] == "张春铭"
    assert "*" in facts["id_number_masked"]
    assert facts["student_number"] == school["pupil"].reveal_student_number()
    assert facts["schools"] == [
        {
            "school": school["school"].name,
            "school_code": school["school"].code,
            "from": "2026-09-01",
            "to": None,
        }
    ]
    assert facts["status"] == "在籍"
    assert facts["issuer"]["county_code"] == "440304"
    keys = keys_by_id(published_keys())
    assert check_signature(facts, certificate.signature, keys).ok
    # Any Ed25519 tool: the canonical bytes and the raw public key.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[facts["key_id"]])).verify(
        base64.b64decode(certificate.signature),
        json.dumps(facts, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(),
    )


def test_a_tampered_fact_or_signature_is_refused(school):
    certificate = _issue(school)
    keys = keys_by_id(published_keys())
    changed = copy.deepcopy(certificate.facts)
    changed["schools"][0]["from"] = "2020-09-01"
    assert check_signature(changed, certificate.signature, keys).reason == "bad_signature"
    raw = bytearray(base64.b64decode(certificate.signature))
    raw[0] ^= 1
    forged = base64.b64encode(bytes(raw)).decode()
    assert check_signature(certificate.facts, forged, keys).reason == "bad_signature"
    assert check_signature(certificate.facts, "not base64!", keys).reason == "bad_signature"
    other_key = copy.deepcopy(certificate.facts)
    other_key["key_id"] = "nobody"
    assert check_signature(other_key, certificate.signature, keys).reason == "unknown_key"


def test_the_pdf_carries_cjk_text_and_a_qr_code_that_opens_the_public_page(school, tmp_path):
    certificate = _issue(school)
    pdf = _pdf(certificate)
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    assert "学籍证明" in text and "张春铭" in text and "在籍" in text
    assert "\ufffd" not in text and "□" not in text
    # The canonical form is printed: what is signed can be read off the page.
    assert certificate.facts["key_id"] in text
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=3).to_pil()
    codes = zxingcpp.read_barcodes(image)
    urls = [code.text for code in codes]
    assert urls == [verify_url(BASE, certificate.token)]
    response = Client().get(urls[0].removeprefix(BASE))
    assert response.status_code == 200
    body = response.content.decode()
    assert "张春铭" in body and 'id="verdict"' in body
    assert response.context["valid"] is True
    # No more than the certificate: no birth date, no family, no address.
    assert school["pupil"].birth_date.isoformat() not in body


def test_the_cli_verifies_the_pdf_offline_and_refuses_a_tampered_one(school, tmp_path):
    certificate = _issue(school)
    good = tmp_path / "good.pdf"
    good.write_bytes(_pdf(certificate))
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(published_keys()))
    out = io.StringIO()
    call_command("certificate", "verify", str(good), "--keys", str(keys), stdout=out)
    assert "valid signature" in out.getvalue()
    forged_facts = copy.deepcopy(certificate.facts)
    forged_facts["name"] = "王五"
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(
        certificate_pdf(forged_facts, certificate.signature, verify_url(BASE, certificate.token))
    )
    with pytest.raises(SystemExit) as exit_info:
        call_command("certificate", "verify", str(bad), "--keys", str(keys), stdout=io.StringIO())
    assert exit_info.value.code == 1
    assert read_envelope(bad.read_bytes())["facts"]["name"] == "王五"


def test_old_certificates_verify_after_the_key_rotates(school):
    first = _issue(school)
    signing_key_rotate()
    second = _issue(school)
    assert first.facts["key_id"] != second.facts["key_id"]
    keys = keys_by_id(published_keys())
    assert check_signature(first.facts, first.signature, keys).ok
    assert check_signature(second.facts, second.signature, keys).ok
    response = Client().get(f"/certificates/v/{first.token}/")
    assert response.context["valid"] is True


def test_the_registrar_withdraws_with_a_reason_and_the_page_says_revoked(school):
    certificate = _issue(school)
    with pytest.raises(FieldErrors):
        certificate_revoke(actor=school["registrar"], certificate_id=certificate.pk, reason="")
    certificate_revoke(actor=school["registrar"], certificate_id=certificate.pk, reason="错发")
    response = Client().get(f"/certificates/v/{certificate.token}/")
    assert response.status_code == 200
    assert response.context["valid"] is False and response.context["reason"] == "revoked"
    # Offline the signature still checks: validity is the public page's answer.
    assert check_signature(
        certificate.facts, certificate.signature, keys_by_id(published_keys())
    ).ok


def test_a_key_data_correction_revokes_the_certificate(school):
    certificate = _issue(school)
    correction = correction_submit(
        actor=school["registrar"],
        student_id=school["pupil"].pk,
        changes={"name": "张春明"},
        reason="户口簿",
        evidence=[Upload("hukou.pdf", b"%PDF-1.4\n%%EOF\n")],
    )
    correction_school_decision(actor=school["principal"], correction_id=correction.pk, approve=True)
    correction_county_decision(actor=school["approver"], correction_id=correction.pk, approve=True)
    certificate.refresh_from_db()
    assert certificate.revoke_cause == "corrected"
    response = Client().get(f"/certificates/v/{certificate.token}/")
    assert response.context["valid"] is False


def test_facts_that_no_longer_hold_are_shown_invalid_without_a_revocation(school):
    certificate = _issue(school)
    Certificate.objects.filter(pk=certificate.pk).update(
        facts={**certificate.facts, "name": "别人"}
    )
    response = Client().get(f"/certificates/v/{certificate.token}/")
    assert response.context["valid"] is False
    assert response.context["reason"] == "facts_changed"


def test_the_public_page_is_rate_limited_per_address_and_every_visit_is_audited(school, settings):
    settings.XUEJI_CERTIFICATE_VERIFY_LIMIT_PER_HOUR = 3
    certificate = _issue(school)
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(2):
        assert client.get(f"/certificates/v/{certificate.token}/").status_code == 200
    assert client.get("/certificates/v/guessed-token/").status_code == 404
    refused = client.get(f"/certificates/v/{certificate.token}/")
    assert refused.status_code == 429
    assert "张春铭" not in refused.content.decode()
    # Another address is not held back.
    assert (
        Client(REMOTE_ADDR="203.0.113.8").get(f"/certificates/v/{certificate.token}/").status_code
        == 200
    )
    assert AuditEntry.objects.filter(action="certificate.verify").count() == 4
    assert AuditEntry.objects.filter(action="certificate.verify_refused").count() == 1


def test_only_the_childs_registrar_issues(school):
    from xueji.access.scope import PermissionRefused

    with pytest.raises(PermissionRefused):
        certificate_issue(
            actor=school["teacher"], student_id=school["pupil"].pk, requested_by="张伟"
        )
    from xueji.access.models import Role
    from xueji.testing.factories import SchoolFactory, member

    elsewhere = member(Role.REGISTRAR, school=SchoolFactory(county=school["school"].county))
    with pytest.raises(NotFound):
        certificate_issue(actor=elsewhere, student_id=school["pupil"].pk, requested_by="张伟")
    with pytest.raises(FieldErrors):
        certificate_issue(
            actor=school["registrar"], student_id=school["pupil"].pk, requested_by=" "
        )


def test_province_years_leave_out_suspensions_and_say_so(school, today):
    import datetime

    from xueji.students.models import EventKind, RecordEvent

    RecordEvent.objects.bulk_create(
        [
            RecordEvent(
                student=school["pupil"],
                kind=EventKind.SUSPENDED,
                occurred_on=datetime.date(2027, 3, 1),
                actor=school["registrar"],
            ),
            RecordEvent(
                student=school["pupil"],
                kind=EventKind.RESUMED,
                occurred_on=datetime.date(2027, 4, 1),
                actor=school["registrar"],
            ),
        ]
    )
    today(datetime.date(2028, 9, 10))
    certificate = _issue(school, with_province_years=True)
    years = certificate.facts["province_years"]
    assert years["since"] == "2026-09-01"
    assert years["excluded_days"] == 31
    assert years["days"] == (datetime.date(2028, 9, 11) - datetime.date(2026, 9, 1)).days - 31
    assert years["years"] == 1
    assert "休学" in years["rule"] and "空挂" in years["rule"]
    assert canonical(certificate.facts).decode().count("province_years") == 1
