from django.db import models
from django.utils.translation import gettext_lazy as _


class DivisionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")


class Division(models.Model):
    """An administrative division (GB/T 2260): province, city (地市) or county (区县)."""

    code = models.CharField(max_length=6, primary_key=True)
    name = models.CharField(max_length=64)
    level = models.CharField(max_length=8, choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # A county, or a prefecture-level city without districts or counties (不设区的地级市: 东莞,
    # 中山, 儋州, 嘉峪关), which is its own county-level unit: schools belong to one, children's
    # ID numbers carry its code, a county bureau's scope may be one.
    county_level = models.BooleanField(_("county level"), default=False)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level="county", county_level=True)
                | models.Q(level="city")
                | models.Q(level="province", county_level=False),
                name="division_county_level_by_level",
            ),
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{6}$"), name="division_code_6_digits"
            ),
            models.CheckConstraint(
                condition=models.Q(level="province", parent__isnull=True)
                | (~models.Q(level="province") & models.Q(parent__isnull=False)),
                name="division_parent_unless_province",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def bureau_scope_level(self) -> str:
        """The scope level of its bureau's accounts: a city without counties is a county bureau
        (its schools' changes and corrections wait for a county's approval), the others their
        own level."""
        return DivisionLevel.COUNTY if self.county_level else self.level

    @property
    def city_code(self) -> str | None:
        """The city (地市) a county-level division lies in: its parent, or itself for a city
        without counties; None above the county level."""
        if not self.county_level:
            return None
        return self.code if self.level == DivisionLevel.CITY else self.parent_id


class BureauLevel(models.TextChoices):
    NATION = "nation", _("Nation")
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")


class EducationBureau(models.Model):
    """An education authority: the ministry, or the bureau of one division."""

    name = models.CharField(max_length=128)
    level = models.CharField(max_length=8, choices=BureauLevel.choices)
    division = models.OneToOneField(
        Division, null=True, blank=True, on_delete=models.PROTECT, related_name="bureau"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level="nation", division__isnull=True)
                | (~models.Q(level="nation") & models.Q(division__isnull=False)),
                name="bureau_division_unless_nation",
            ),
            models.UniqueConstraint(
                fields=["level"], condition=models.Q(level="nation"), name="one_ministry"
            ),
        ]

    def __str__(self) -> str:
        return self.name
