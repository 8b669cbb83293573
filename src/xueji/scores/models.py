"""Scores (成绩): subject teachers enter them for the classes and subjects assigned to them."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MIN_SCORE = Decimal("0")
MAX_SCORE = Decimal("150")  # the highest full mark of China's school examinations


class Subject(models.TextChoices):
    CHINESE = "chinese", _("Chinese")
    MATH = "math", _("Mathematics")
    ENGLISH = "english", _("English")
    MORALITY = "morality", _("Morality and law")
    SCIENCE = "science", _("Science")
    HISTORY = "history", _("History")
    GEOGRAPHY = "geography", _("Geography")
    PHYSICS = "physics", _("Physics")
    CHEMISTRY = "chemistry", _("Chemistry")
    BIOLOGY = "biology", _("Biology")
    PE = "pe", _("Physical education")
    MUSIC = "music", _("Music")
    ART = "art", _("Art")
    IT = "it", _("Information technology")


class ScoreKind(models.TextChoices):
    """Which mark of the term: the term's overall mark or the final examination's."""

    TERM = "term", _("Term mark")
    FINAL = "final", _("Final examination")


class TeachingAssignment(models.Model):
    """A subject teacher teaches a subject in a class (one teacher per class and subject)."""

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="teaching_assignments"
    )
    school_class = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.PROTECT, related_name="teaching_assignments"
    )
    subject = models.CharField(_("subject"), max_length=16, choices=Subject.choices)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["school_class", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["school_class", "subject"], name="one_teacher_per_class_subject"
            ),
            models.CheckConstraint(
                condition=models.Q(subject__in=Subject.values), name="assignment_subject_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.teacher_id} {self.school_class_id} {self.subject}"


class Score(models.Model):
    """A student's mark in a subject for a term: the term mark and the final examination's
    (one of each per student, subject and term)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    student = models.ForeignKey(
        "students.Student", on_delete=models.PROTECT, related_name="scores", db_index=False
    )
    school_class = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.PROTECT, related_name="scores"
    )
    subject = models.CharField(_("subject"), max_length=16, choices=Subject.choices)
    term = models.ForeignKey("schools.Term", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(
        _("mark"), max_length=8, choices=ScoreKind.choices, default=ScoreKind.TERM
    )
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=1)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["school_class", "subject", "student"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "subject", "term", "kind"],
                name="one_score_per_subject_term_and_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ScoreKind.values), name="score_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=MIN_SCORE, score__lte=MAX_SCORE),
                name="score_range",
            ),
            models.CheckConstraint(
                condition=models.Q(subject__in=Subject.values), name="score_subject_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.subject} {self.score}"
