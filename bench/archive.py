"""The archive (issue 24) on PostgreSQL: a class's electronic files and a batch of certificates,
each in pages per second against a bare ReportLab page of the same size in the same run.

One school of 深圳 with a class of `children` pupils registered by the service (each with a term
report, a sanction, a health check-up and a fitness result), then:

- electronic files: the class's file as the background job runs it (`file_job_run`: every child's
  archive read as the requester may, one PDF with the embedded CJK font, sealed at rest) vs bare
  ReportLab (platypus, the same font) laying out the same number of children's files of the same
  shape from constant text: a title, two paragraphs and eight headed tables of three rows each
  (no database, no selectors, no sealing);
- certificates: `certificates` issued by the service (facts from the record, Ed25519 signature,
  audit entry) and rendered to their PDF (text, QR code, the signed facts attached), one page
  each, vs a bare ReportLab A4 page with the same lines of text in the same font.

    python -m bench.archive --children 50 --certificates 1000

runs it alone on a fresh database (BENCH_DATABASE_URL, …, see bench/database.py).
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import sys
import time
from pathlib import Path
from typing import Any

# Lines of a bare certificate page: about what a certificate carries.
CERTIFICATE_LINES = 30
LINE = "张春铭 2026-09-01 深圳市福田区第一小学 一年级1班 在籍 思想品德 A 学业水平 B 身心健康 A"


def _bare_pages(pages: int, lines: int) -> float:
    """Seconds to write `pages` A4 pages of `lines` lines of CJK text with the same font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from xueji.archive.pdf.fonts import cjk_font

    font = cjk_font()
    started = time.perf_counter()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    for _page in range(pages):
        canvas.setFont(font, 9)
        for line in range(lines):
            canvas.drawString(50, 800 - line * 16, LINE)
        canvas.showPage()
    canvas.save()
    return time.perf_counter() - started


def _bare_files(children: int) -> tuple[float, int]:
    """Seconds and pages to lay out `children` files of an electronic file's shape with bare
    ReportLab (platypus) from constant text."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    from xueji.archive.pdf.fonts import cjk_font

    font = cjk_font()
    title = ParagraphStyle("t", fontName=font, fontSize=18, leading=24)
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=12)
    cell = ParagraphStyle("c", fontName=font, fontSize=8, leading=10)
    started = time.perf_counter()
    story: list[Any] = []
    for child in range(children):
        if child:
            story.append(PageBreak())
        story += [
            Paragraph("电子学籍档案：张春铭", title),
            Paragraph(LINE, body),
            Paragraph(LINE, body),
        ]
        for _table in range(8):
            story.append(Paragraph("就读经历", body))
            rows = [[Paragraph(text, cell) for text in LINE.split()[:5]] for _row in range(3)]
            table = Table(rows, colWidths=[34 * mm] * 5)
            table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey)]))
            story.append(table)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4)
    document.build(story)
    return time.perf_counter() - started, document.page


def _bare_certificates(count: int) -> float:
    """Seconds to write `count` one-page PDFs (a certificate's size), each its own document."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from xueji.archive.pdf.fonts import cjk_font

    font = cjk_font()
    started = time.perf_counter()
    for _certificate in range(count):
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
        canvas.setFont(font, 11)
        for line in range(CERTIFICATE_LINES):
            canvas.drawString(50, 800 - line * 20, LINE)
        canvas.showPage()
        canvas.save()
    return time.perf_counter() - started


GIVEN = "春铭小红大山燕鸣思远子涵一诺梓轩雨桐浩然欣怡宇航佳琪"


def _name(index: int) -> str:
    """张 and two characters of GIVEN: a distinct name for each of 400 children."""
    return "张" + GIVEN[index % len(GIVEN)] + GIVEN[(index // len(GIVEN)) % len(GIVEN)]


def _scene(children: int) -> dict[str, Any]:
    from xueji.access.models import Role
    from xueji.access.tests.world import ensure_terms
    from xueji.archive.models import FitnessResult
    from xueji.archive.services.growth import conduct_add, health_check_add, term_report_save
    from xueji.geo.models import Division
    from xueji.schools.models import Term
    from xueji.students.services import student_register
    from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data

    ensure_terms(2026)
    school = SchoolFactory(county=Division.objects.get(code="440304"))
    teacher = member(Role.CLASS_TEACHER, school=school, username="bench_archive_teacher")
    school_class = SchoolClassFactory(school=school, grade=1, number=1, class_teacher=teacher)
    registrar = member(Role.REGISTRAR, school=school, username="bench_archive_registrar")
    principal = member(Role.PRINCIPAL, school=school, username="bench_archive_principal")
    term = Term.objects.get(academic_year__start_year=2026, number=1)
    started = time.perf_counter()
    students = []
    for index in range(children):
        student = student_register(
            actor=registrar,
            school_class_id=school_class.pk,
            data=student_data(name=_name(index)),
            start_date=datetime.date(2026, 9, 1),
        ).student
        term_report_save(
            actor=teacher,
            student_id=student.pk,
            data={"term": term.pk, "comment": "热爱劳动，乐于助人，学习认真。", "moral": "A"},
        )
        conduct_add(
            actor=registrar,
            student_id=student.pk,
            data={
                "kind": "award",
                "title": "三好学生",
                "decided_on": "2026-09-01",
                "issuer": "学校",
                "evidence": "校发〔2026〕1号",
            },
        )
        health_check_add(
            actor=registrar,
            student_id=student.pk,
            data={"checked_on": "2026-09-01", "height_cm": "130", "weight_kg": "27"},
        )
        FitnessResult.objects.create(
            student=student,
            school=school,
            start_year=2026,
            grade=1,
            sex=student.sex,
            standard_score=85,
            total=85,
            level="良好",
            imported_by=registrar,
        )
        students.append(student)
    return {
        "school": school,
        "class": school_class,
        "registrar": registrar,
        "principal": principal,
        "students": students,
        "setup_seconds": time.perf_counter() - started,
    }


def run(children: int = 50, certificates: int = 1000) -> dict[str, Any]:
    from xueji.archive.pdf.certificate import certificate_pdf
    from xueji.archive.services.certificates import certificate_issue, verify_url
    from xueji.archive.services.files import file_job_create, file_job_run

    scene = _scene(children)
    # Warm the font (registration and its first subset) outside the timings.
    _bare_pages(1, 1)

    # Electronic files: the class as one background job.
    job = file_job_create(
        actor=scene["principal"], school_class_id=scene["class"].pk, enqueue=False
    )
    started = time.perf_counter()
    job = file_job_run(job_id=job.pk)
    file_seconds = time.perf_counter() - started
    bare_file_seconds, bare_file_pages = _bare_files(children)
    file_pages_per_second = job.pages / file_seconds
    bare_file_pages_per_second = bare_file_pages / bare_file_seconds

    # Certificates: issued by the service, then rendered, one page each (the two timed apart:
    # the registrar issues one at a time; the PDFs are what a batch job writes).
    students = scene["students"]
    issued = []
    started = time.perf_counter()
    for index in range(certificates):
        issued.append(
            certificate_issue(
                actor=scene["registrar"],
                student_id=students[index % len(students)].pk,
                requested_by="家长",
                with_province_years=True,
            )
        )
    issue_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for certificate in issued:
        certificate_pdf(
            certificate.facts,
            certificate.signature,
            verify_url("https://xueji.example.cn", certificate.token),
        )
    render_seconds = time.perf_counter() - started
    certificate_seconds = issue_seconds + render_seconds
    bare_certificate_seconds = _bare_certificates(certificates)
    return {
        "children": children,
        "certificates": certificates,
        "setup_seconds": scene["setup_seconds"],
        "electronic_files": {
            "pages": job.pages,
            "seconds": file_seconds,
            "pages_per_second": file_pages_per_second,
            "bare_pages_per_second": bare_file_pages_per_second,
            "ratio": bare_file_pages_per_second / file_pages_per_second,
        },
        "certificates_run": {
            "issue_seconds": issue_seconds,
            "render_seconds": render_seconds,
            "render_pages_per_second": certificates / render_seconds,
            "render_ratio": (certificates / bare_certificate_seconds)
            / (certificates / render_seconds),
            "seconds": certificate_seconds,
            "pages_per_second": certificates / certificate_seconds,
            "bare_pages_per_second": certificates / bare_certificate_seconds,
            "ratio": (certificates / bare_certificate_seconds)
            / (certificates / certificate_seconds),
        },
    }


def rows(results: dict[str, Any]) -> list[str]:
    files, certs = results["electronic_files"], results["certificates_run"]
    return [
        f"electronic files: a class of {results['children']}, {files['pages']} pages in "
        f"{files['seconds']:.2f} s = {files['pages_per_second']:.1f} pages/s; bare ReportLab "
        f"{files['bare_pages_per_second']:.1f} pages/s; ratio {files['ratio']:.2f}× (target ≤ 3×)",
        f"certificates: {results['certificates']} rendered (QR, signed facts) in "
        f"{certs['render_seconds']:.2f} s = {certs['render_pages_per_second']:.1f} pages/s; "
        f"bare ReportLab {certs['bare_pages_per_second']:.1f} pages/s; ratio "
        f"{certs['render_ratio']:.2f}× (target ≤ 3×)",
        f"certificates issued and rendered: {certs['issue_seconds']:.2f} s issuing (facts, "
        f"signature, audit) + {certs['render_seconds']:.2f} s = "
        f"{certs['pages_per_second']:.1f} pages/s; ratio {certs['ratio']:.2f}× to bare",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.archive", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--children", type=int, default=50)
    parser.add_argument("--certificates", type=int, default=1000)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from bench import database

    with database.django_on(
        database.bench_url(), fresh=True, keep=args.keep_database, migrate=True
    ):
        results = run(args.children, args.certificates)
    out = args.output / f"archive-{args.children}-{args.certificates}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    for line in rows(results):
        print(line)
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
