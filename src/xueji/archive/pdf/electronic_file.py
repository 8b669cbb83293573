"""The electronic file (电子学籍档案): the whole archive of one child across schools and stages as
the reader may see it (basic information masked, placements with dates, status changes, the
growth record by term), one child after another for a class, each from a new page."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone, translation
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from xueji.archive.pdf.fonts import cjk_font, printable
from xueji.archive.selectors import Archive
from xueji.archive.services.growth import counts
from xueji.students.models import RecordEvent


def _styles() -> dict[str, ParagraphStyle]:
    font = cjk_font()
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=18, leading=24, spaceAfter=6),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=12, leading=16, spaceBefore=8),
        "body": ParagraphStyle("body", fontName=font, fontSize=9, leading=12),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=8, leading=10),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    escaped = (
        printable(str(text if text is not None else ""))
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )
    return Paragraph(escaped, style)


def _table(head: list[str], rows: list[list[Any]], styles: dict[str, ParagraphStyle]) -> Table:
    cell = styles["cell"]
    data = [[_p(h, cell) for h in head]] + [[_p(v, cell) for v in row] for row in rows]
    if not rows:
        data.append([_p("无", cell)] + [_p("", cell) for _ in head[1:]])
    table = Table(data, repeatRows=1, hAlign="LEFT", colWidths=[170 * mm / len(head)] * len(head))
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _zh(value: Any) -> str:
    with translation.override("zh-hans"):
        return str(value)


def child_story(archive: Archive, styles: dict[str, ParagraphStyle]) -> list[Any]:
    """The flowables of one child's file."""
    student = archive.student
    body = styles["body"]
    story: list[Any] = [
        _p(f"电子学籍档案：{student.name}", styles["title"]),
        _p(
            f"学籍号 {student.number_masked}　身份证件号 {student.id_number_masked or '无'}　"
            f"性别 {_zh(student.get_sex_display())}　出生日期 {student.birth_date:%Y-%m}　"
            f"学籍状态 {_zh(student.get_state_display())}　现学校 {student.school.name}",
            body,
        ),
        _p(
            "（证件号与学籍号按阅读者权限隐去部分；"
            + ("含各校填写的全部内容）" if archive.whole else "仅含本校填写的内容）"),
            body,
        ),
        _p("就读经历", styles["h2"]),
        _table(
            ["学校", "班级", "年级", "起", "止"],
            [
                [p.school.name, p.school_class.name, p.grade, p.start_date, p.end_date or "至今"]
                for p in archive.placements
            ],
            styles,
        ),
    ]
    events = RecordEvent.objects.filter(student=student).order_by("occurred_on", "recorded_at")
    story += [
        _p("学籍变动", styles["h2"]),
        _table(
            ["日期", "变动"],
            [[e.occurred_on, _zh(e.get_kind_display())] for e in events],
            styles,
        ),
    ]
    # The growth record by term.
    by_term: dict[Any, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for report in archive.term_reports:
        by_term[report.term]["reports"].append(report)
    for score in archive.scores:
        by_term[score.term]["scores"].append(score)
    for record in archive.factual_records:
        by_term[record.term]["records"].append(record)
    for term in sorted(by_term, key=lambda t: t.start_date):
        parts = by_term[term]
        story.append(_p(f"成长记录：{term.academic_year} 第{term.number}学期", styles["h2"]))
        for report in parts["reports"]:
            story.append(
                _p(
                    f"班主任评语：{report.comment or '—'}　综合素质评价：思想品德 "
                    f"{report.moral or '—'}、学业水平 {report.academic or '—'}、身心健康 "
                    f"{report.health or '—'}、艺术素养 {report.arts or '—'}、社会实践 "
                    f"{report.social or '—'}",
                    body,
                )
            )
        if parts["scores"]:
            story.append(
                _table(
                    ["科目", "成绩类型", "分数"],
                    [
                        [_zh(s.get_subject_display()), _zh(s.get_kind_display()), s.score]
                        for s in parts["scores"]
                    ],
                    styles,
                )
            )
        counted = [r for r in parts["records"] if counts(r)]
        if counted:
            story.append(
                _table(
                    ["日期", "维度", "写实记录"],
                    [[r.occurred_on, _zh(r.get_dimension_display()), r.title] for r in counted],
                    styles,
                )
            )
    story += [
        _p("奖惩", styles["h2"]),
        _table(
            ["日期", "类别", "名称", "决定机关", "依据"],
            [
                [
                    c.decided_on,
                    _zh(c.get_level_display() or c.get_kind_display()),
                    c.title + (f"（{c.lifted_on} 解除）" if c.lifted_on else ""),
                    c.issuer,
                    c.evidence,
                ]
                for c in archive.conduct
            ],
            styles,
        ),
        _p("体检", styles["h2"]),
        _table(
            ["日期", "身高", "体重", "视力（左/右）"],
            [
                [h.checked_on, h.height_cm, h.weight_kg, f"{h.vision_left}/{h.vision_right}"]
                for h in archive.health_checks
            ],
            styles,
        ),
        _p("预防接种", styles["h2"]),
        _table(
            ["疫苗", "剂次", "日期"],
            [[v.vaccine, v.dose, v.given_on] for v in archive.vaccinations],
            styles,
        ),
        _p("体质健康测试", styles["h2"]),
        _table(
            ["学年", "类别", "标准分", "附加分", "学年总分", "等级"],
            [
                [
                    f.start_year,
                    "免测" if f.exempt else _zh(f.get_kind_display()),
                    f.standard_score if f.standard_score is not None else "未评分",
                    f.bonus,
                    f.total if f.total is not None else "未评分",
                    f.level or "—",
                ]
                for f in archive.fitness
            ],
            styles,
        ),
    ]
    if archive.aid_available:
        story += [
            _p("受资助情况", styles["h2"]),
            _table(
                ["项目", "学期", "金额（元）", "状态"],
                [
                    [
                        a.get("programme", ""),
                        a.get("term", ""),
                        f"{int(a.get('amount_fen', 0)) / 100:.2f}",
                        a.get("state", ""),
                    ]
                    for a in archive.aid
                ],
                styles,
            ),
        ]
    return story


def electronic_file_pdf(
    archives: Iterable[Archive], progress: Callable[[int], None] | None = None
) -> tuple[bytes, int]:
    """The PDF of one or more children's files, and its number of pages."""
    styles = _styles()
    story: list[Any] = []
    for index, archive in enumerate(archives):
        if index:
            story.append(PageBreak())
        story += child_story(archive, styles)
        story.append(Spacer(1, 4 * mm))
        if progress is not None:
            progress(index + 1)
    buffer = io.BytesIO()
    pages = {"count": 0}

    def footer(canvas: Any, doc: Any) -> None:
        pages["count"] = doc.page
        canvas.setFont(cjk_font(), 7)
        canvas.drawString(
            20 * mm,
            10 * mm,
            f"电子学籍档案 · 生成于 {timezone.localtime():%Y-%m-%d %H:%M} · 第 {doc.page} 页",
        )

    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title="电子学籍档案",
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue(), pages["count"]
