"""The identity app's tables: the population roll (户籍人口), each record's identity status, the
pairs of records that may be one child (一人多籍) and the children with no record (有人无籍).

Identity numbers of the roll are kept as the registry keeps them (xueji.students.identity):
sealed, blind-indexed in the one document index space (so that a roll entry and a record holding
the same resident ID number meet on an indexed equality), and masked for display.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.students.models import Student


class ProvinceIdentityRule(models.Model):
    """Whether a province checks identities against the population roll (a per-province
    setting, changed by the province bureau): new registrations get an L number until the roll
    confirms them."""

    province_code = models.CharField(_("province"), max_length=6, primary_key=True)
    population_check = models.BooleanField(_("population check (L numbers)"), default=False)
    # 县级审核: a new registration waits, after the identity and duplicate checks, for the county
    # of its school to approve it before its number is issued (xueji.students.review).
    county_review = models.BooleanField(_("county review before the number"), default=False)
    changed_at = models.DateTimeField(auto_now=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )

    def __str__(self) -> str:
        return f"{self.province_code}: {self.population_check} {self.county_review}"


class RollLoadState(models.TextChoices):
    LOADING = "loading", _("Loading")
    LOADED = "loaded", _("Loaded")
    REFUSED = "refused", _("Refused")


class RollLoad(models.Model):
    """One file of the population roll loaded for a province (whole or incremental)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    province_code = models.CharField(_("province"), max_length=6)
    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(max_length=64)
    incremental = models.BooleanField(_("incremental"), default=False)
    state = models.CharField(
        _("state"), max_length=16, choices=RollLoadState.choices, default=RollLoadState.LOADING
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)
    errors = models.JSONField(default=list, blank=True)
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Seconds of each step (staging, merge, status check), for the page and the bench.
    timings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.province_code} {self.file_name}"


class HouseholdType(models.TextChoices):
    AGRICULTURAL = "1", _("Agricultural")
    NON_AGRICULTURAL = "2", _("Non-agricultural")
    RESIDENT = "3", _("Resident (unified)")


class RollEntry(models.Model):
    """A child of the population roll: one per resident ID number in the country."""

    id = models.BigAutoField(primary_key=True)
    province_code = models.CharField(max_length=6)
    id_number_masked = models.CharField(_("ID number"), max_length=18)
    id_number_sealed = models.TextField()
    id_number_index = models.CharField(max_length=32)
    name = models.CharField(_("name"), max_length=64)
    # The name folded as xueji.students.names.name_key does (traditional → simplified, dots).
    name_key = models.CharField(max_length=64)
    sex = models.CharField(_("sex"), max_length=1)
    birth_date = models.DateField(_("birth date"))
    household_division = models.CharField(_("household division"), max_length=6)
    household_address = models.CharField(_("household address"), max_length=200, blank=True)
    household_type = models.CharField(
        _("household type"), max_length=1, choices=HouseholdType.choices, blank=True
    )
    load = models.ForeignKey(RollLoad, on_delete=models.PROTECT, related_name="+", db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["id_number_index"], name="one_roll_entry_per_id")
        ]
        indexes = [
            models.Index(fields=["household_division", "birth_date"], name="roll_household_birth"),
            models.Index(fields=["province_code"], name="roll_province"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id_number_masked})"


class RollStagedRow(models.Model):
    """A checked and sealed row of a roll file being loaded: the load's checkpoint. Rows are
    staged in batches, each committed with the load's count of staged rows, so that a load
    interrupted (its worker killed) goes on from its last batch; the roll itself changes only
    when every row is staged, in one transaction. Unlogged on PostgreSQL (a scratch table: a
    server crash empties it, and the load then stages again from the start)."""

    id = models.BigAutoField(primary_key=True)
    # No foreign key: a key check per row would cost more than the COPY.
    load_id = models.UUIDField()
    id_number_index = models.CharField(max_length=32)
    id_number_sealed = models.TextField()
    id_number_masked = models.CharField(max_length=18)
    name = models.CharField(max_length=64)
    name_key = models.CharField(max_length=64)
    sex = models.CharField(max_length=1)
    birth_date = models.DateField()
    household_division = models.CharField(max_length=6)
    household_address = models.CharField(max_length=200, blank=True)
    household_type = models.CharField(max_length=1, blank=True)

    def __str__(self) -> str:
        return f"{self.load_id}: {self.id_number_masked}"


class IdentityState(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    DISAGREES = "disagrees", _("Disagrees with the roll")
    NOT_IN_ROLL = "not_in_roll", _("Not in the roll")
    NOT_CHECKED = "not_checked", _("Not checked")


DISAGREEMENT_FIELDS = ("name", "sex", "birth_date")


class IdentityStatus(models.Model):
    """A record's identity against the roll, computed set-based after each load and at
    registration. A record with no row here is not checked (no roll covers its household)."""

    student = models.OneToOneField(
        Student, on_delete=models.CASCADE, primary_key=True, related_name="identity_status"
    )
    province_code = models.CharField(max_length=6)
    county_code = models.CharField(max_length=6)
    status = models.CharField(_("identity"), max_length=16, choices=IdentityState.choices)
    name_differs = models.BooleanField(default=False)
    sex_differs = models.BooleanField(default=False)
    birth_date_differs = models.BooleanField(default=False)
    roll_entry = models.ForeignKey(
        RollEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["county_code", "status"], name="identity_county_status"),
            models.Index(fields=["roll_entry"], name="identity_roll_entry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="disagrees")
                | models.Q(name_differs=True)
                | models.Q(sex_differs=True)
                | models.Q(birth_date_differs=True),
                name="disagreement_names_a_field",
            )
        ]

    def __str__(self) -> str:
        return f"{self.student_id}: {self.status}"

    @property
    def differing(self) -> list[str]:
        return [field for field in DISAGREEMENT_FIELDS if getattr(self, f"{field}_differs")]


class PairState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ESCALATED = "escalated", _("Sent to the bureau above")
    SAME = "same", _("Same child: merged")
    NOT_SAME = "not_same", _("Not the same child")
    UNDONE = "undone", _("Merge undone")
    # One of the records was a registration its school withdrew during the county's review.
    WITHDRAWN = "withdrawn", _("Registration withdrawn")


OPEN_PAIR_STATES = (PairState.PROPOSED, PairState.ESCALATED)


class DuplicatePair(models.Model):
    """Two records that may be one child (一人多籍), proposed by the scan with its score and the
    contribution of every field; decided by the counties of both records."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # student_a's id sorts before student_b's: one row per pair, whoever found it.
    student_a = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    student_b = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    county_a = models.CharField(max_length=6)
    county_b = models.CharField(max_length=6)
    score = models.FloatField(_("score"))
    contributions = models.JSONField(default=dict)
    state = models.CharField(
        _("state"), max_length=16, choices=PairState.choices, default=PairState.PROPOSED
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    due_on = models.DateField(_("decide by"))
    # The two counties' decisions ("same" or "not_same") while both are needed.
    decision_a = models.CharField(max_length=16, blank=True)
    decision_b = models.CharField(max_length=16, blank=True)
    # The record the child really attends ("a" or "b") as the deciding county says.
    attends = models.CharField(max_length=1, blank=True)
    survivor = models.ForeignKey(
        Student, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_county = models.CharField(max_length=6, blank=True)
    note = models.CharField(max_length=500, blank=True)
    undo = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-score", "proposed_at"]
        constraints = [
            models.UniqueConstraint(fields=["student_a", "student_b"], name="one_pair_per_two"),
            models.CheckConstraint(
                condition=models.Q(student_a__lt=models.F("student_b")), name="pair_ordered"
            ),
        ]
        indexes = [
            models.Index(fields=["county_a", "state"], name="pair_county_a"),
            models.Index(fields=["county_b", "state"], name="pair_county_b"),
        ]

    def __str__(self) -> str:
        return f"{self.student_a_id} ~ {self.student_b_id} ({self.score:.2f})"


class PairEvidence(models.Model):
    """Evidence (佐证) of a merge: an attendance or enrolment certificate, kept encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pair = models.ForeignKey(DuplicatePair, on_delete=models.PROTECT, related_name="evidence")
    file_name = models.CharField(max_length=128)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content_sealed = models.TextField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.file_name


class UnrecordedState(models.TextChoices):
    OPEN = "open", _("To find")
    FOUND = "found", _("Found (record elsewhere or registered)")
    EXEMPTED = "exempted", _("Exempted")
    HANDED_OVER = "handed_over", _("Handed to dropout control")


class UnrecordedChild(models.Model):
    """A child of compulsory age in the roll with no record anywhere (有人无籍)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    roll_entry = models.OneToOneField(RollEntry, on_delete=models.CASCADE, related_name="+")
    county_code = models.CharField(max_length=6)
    state = models.CharField(
        _("state"), max_length=16, choices=UnrecordedState.choices, default=UnrecordedState.OPEN
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    case_reference = models.CharField(max_length=64, blank=True)
    found_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["county_code", "state"], name="unrecorded_county")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="exempted") | ~models.Q(reason=""),
                name="exemption_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.roll_entry_id}: {self.state}"
