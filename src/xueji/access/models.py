import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CLASS_TEACHER = "class_teacher", _("Class teacher")
    SUBJECT_TEACHER = "subject_teacher", _("Subject teacher")
    REGISTRAR = "registrar", _("School registrar")
    PRINCIPAL = "principal", _("Principal")
    BUREAU_VIEWER = "bureau_viewer", _("Bureau staff (viewer)")
    BUREAU_APPROVER = "bureau_approver", _("Bureau staff (approver)")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")


class ScopeLevel(models.TextChoices):
    SCHOOL = "school", _("School")
    COUNTY = "county", _("County")
    CITY = "city", _("City")
    PROVINCE = "province", _("Province")
    NATION = "nation", _("Nation")


SCHOOL_ROLES = {Role.CLASS_TEACHER, Role.SUBJECT_TEACHER, Role.REGISTRAR, Role.PRINCIPAL}

# 三员分立 (等保三级): the system administrator, the security administrator and the auditor are
# three people. A user has one membership (a one-to-one row), hence one role: no account can
# hold two of these duties.
SEPARATED_DUTIES = frozenset({Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})


class Membership(models.Model):
    """Where a user works and in which role: the scope every read and write is limited to.

    One per user (one-to-one, a unique index in the database): a user holds exactly one role,
    which is what keeps the three separated duties (SEPARATED_DUTIES) in three hands.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    scope_level = models.CharField(_("scope"), max_length=8, choices=ScopeLevel.choices)
    # Named, not imported: access sits below the school system (xueji.geo, xueji.schools).
    school = models.ForeignKey("schools.School", null=True, blank=True, on_delete=models.PROTECT)
    division = models.ForeignKey("geo.Division", null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope_level="school", school__isnull=False, division__isnull=True)
                    | models.Q(scope_level="nation", school__isnull=True, division__isnull=True)
                    | (
                        models.Q(scope_level__in=["county", "city", "province"])
                        & models.Q(school__isnull=True, division__isnull=False)
                    )
                ),
                name="membership_scope_target",
            ),
            models.CheckConstraint(
                condition=~models.Q(
                    role__in=["class_teacher", "subject_teacher", "registrar", "principal"]
                )
                | models.Q(scope_level="school"),
                name="school_roles_at_a_school",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    role__in=["class_teacher", "subject_teacher", "registrar", "principal"]
                )
                | ~models.Q(scope_level="school"),
                name="bureau_roles_not_at_a_school",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_known"
            ),
        ]

    def __str__(self) -> str:
        target = self.school or self.division or _("Nation")
        return f"{self.user} · {self.get_role_display()} · {target}"


class ApiToken(models.Model):
    """A bearer token for a system client, acting with its owner's role and scope.

    Only a SHA-256 digest is stored: the token itself is shown once, when it is created.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=64)
    prefix = models.CharField(max_length=8, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()
