"""National code lists used in the student record (学籍).

Codes follow the national standards the ministry's system uses: GB/T 2261.1 (sex),
GB 3304 (ethnicity), GB/T 2261.3 (health), GB/T 4761 (family relation) and the code lists
of the national student status system for the rest. Values are stored as the code; labels are
translated through Django i18n.
"""

import gettext
from functools import cache

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "1", _("Male")
    FEMALE = "2", _("Female")


# GB 3304-1991 names of ethnic groups and their codes; 97 and 98 are the standard's own extras.
ETHNICITY_NAMES: dict[str, str] = {
    "01": "汉族",
    "02": "蒙古族",
    "03": "回族",
    "04": "藏族",
    "05": "维吾尔族",
    "06": "苗族",
    "07": "彝族",
    "08": "壮族",
    "09": "布依族",
    "10": "朝鲜族",
    "11": "满族",
    "12": "侗族",
    "13": "瑶族",
    "14": "白族",
    "15": "土家族",
    "16": "哈尼族",
    "17": "哈萨克族",
    "18": "傣族",
    "19": "黎族",
    "20": "傈僳族",
    "21": "佤族",
    "22": "畲族",
    "23": "高山族",
    "24": "拉祜族",
    "25": "水族",
    "26": "东乡族",
    "27": "纳西族",
    "28": "景颇族",
    "29": "柯尔克孜族",
    "30": "土族",
    "31": "达斡尔族",
    "32": "仫佬族",
    "33": "羌族",
    "34": "布朗族",
    "35": "撒拉族",
    "36": "毛南族",
    "37": "仡佬族",
    "38": "锡伯族",
    "39": "阿昌族",
    "40": "普米族",
    "41": "塔吉克族",
    "42": "怒族",
    "43": "乌孜别克族",
    "44": "俄罗斯族",
    "45": "鄂温克族",
    "46": "德昂族",
    "47": "保安族",
    "48": "裕固族",
    "49": "京族",
    "50": "塔塔尔族",
    "51": "独龙族",
    "52": "鄂伦春族",
    "53": "赫哲族",
    "54": "门巴族",
    "55": "珞巴族",
    "56": "基诺族",
    "97": "其他",
    "98": "外国血统中国籍人士",
}
ETHNICITY_CHOICES: list[tuple[str, str]] = list(ETHNICITY_NAMES.items())


class Health(models.TextChoices):
    """GB/T 2261.3 健康状况."""

    GOOD = "10", _("Healthy or good")
    FAIR = "20", _("Fair or weak")
    CHRONIC = "30", _("Chronic illness")
    PHYSICAL_DEFECT = "40", _("Physical defect")
    DISABLED = "60", _("Disability")


class OverseasStatus(models.TextChoices):
    """港澳台侨外: from Hong Kong, Macao or Taiwan, overseas Chinese, or foreign."""

    NO = "00", _("No")
    HONG_KONG = "01", _("Hong Kong compatriot")
    HONG_KONG_RELATIVE = "02", _("Relative of a Hong Kong compatriot")
    MACAO = "03", _("Macao compatriot")
    MACAO_RELATIVE = "04", _("Relative of a Macao compatriot")
    TAIWAN = "05", _("Taiwan compatriot")
    TAIWAN_RELATIVE = "06", _("Relative of a Taiwan compatriot")
    OVERSEAS_CHINESE = "11", _("Overseas Chinese")
    OVERSEAS_CHINESE_RELATIVE = "12", _("Relative of overseas Chinese")
    RETURNED_OVERSEAS = "13", _("Returned overseas Chinese")
    RETURNED_OVERSEAS_CHILD = "14", _("Child of returned overseas Chinese")
    FOREIGN_CHINESE_DESCENT = "41", _("Foreign national of Chinese descent")
    FOREIGN = "42", _("Foreign national")
    OTHER = "99", _("Other")


class IdDocType(models.TextChoices):
    """身份证件类型."""

    RESIDENT_ID = "1", _("Resident ID card")
    HONG_KONG = "2", _("Hong Kong SAR passport or identity document")
    MACAO = "3", _("Macao SAR passport or identity document")
    TAIWAN_PERMIT = "4", _("Mainland travel permit for Taiwan residents")
    FOREIGN_PERMANENT = "5", _("Foreign permanent resident ID card")
    PASSPORT = "6", _("Passport")
    HMT_RESIDENCE = "7", _("Residence permit for Hong Kong, Macao and Taiwan residents")
    OTHER = "9", _("Other document")
    NONE = "Z", _("No document yet")


class HukouNature(models.TextChoices):
    """户口性质."""

    AGRICULTURAL = "1", _("Agricultural household")
    NON_AGRICULTURAL = "2", _("Non-agricultural household")
    RESIDENT = "3", _("Unified resident household")
    NONE = "9", _("No household registration")


class Relation(models.TextChoices):
    """GB/T 4761 家庭关系, the relations a school records for a child."""

    FATHER = "51", _("Father")
    MOTHER = "52", _("Mother")
    STEPFATHER = "55", _("Stepfather")
    STEPMOTHER = "56", _("Stepmother")
    ADOPTIVE_FATHER = "57", _("Adoptive father")
    ADOPTIVE_MOTHER = "58", _("Adoptive mother")
    PATERNAL_GRANDFATHER = "61", _("Paternal grandfather")
    PATERNAL_GRANDMOTHER = "62", _("Paternal grandmother")
    MATERNAL_GRANDFATHER = "63", _("Maternal grandfather")
    MATERNAL_GRANDMOTHER = "64", _("Maternal grandmother")
    BROTHER = "71", _("Elder brother")
    SISTER = "75", _("Elder sister")
    OTHER_RELATIVE = "97", _("Other relative")
    NON_RELATIVE = "99", _("Not a relative")


class MissingReason(models.TextChoices):
    """Why a family member usually recorded is not there; a recorded reason passes validation.

    Numeric like every other list, so that the import template's drop-down reads "1 已故"; the
    codes were English words until students migration 0003 converted the stored values.
    """

    DECEASED = "1", _("Deceased")
    DIVORCED_NO_CONTACT = "2", _("Divorced, no contact")
    UNKNOWN = "3", _("Unknown or never known")
    ABROAD_NO_CONTACT = "4", _("Abroad, no contact")
    OTHER = "9", _("Other")


# The English words MissingReason used before its numeric codes: API clients written against them
# keep working during a transition (students.api maps them); nothing stores them any more.
MISSING_REASON_FORMER_CODES: dict[str, str] = {
    "deceased": MissingReason.DECEASED.value,
    "divorced": MissingReason.DIVORCED_NO_CONTACT.value,
    "unknown": MissingReason.UNKNOWN.value,
    "abroad": MissingReason.ABROAD_NO_CONTACT.value,
    "other": MissingReason.OTHER.value,
}


class DisabilityType(models.TextChoices):
    NONE = "0", _("None")
    VISUAL = "1", _("Visual")
    HEARING = "2", _("Hearing")
    SPEECH = "3", _("Speech")
    PHYSICAL = "4", _("Physical")
    INTELLECTUAL = "5", _("Intellectual")
    MENTAL = "6", _("Mental")
    MULTIPLE = "7", _("Multiple")
    OTHER = "9", _("Other")


class AttendanceMode(models.TextChoices):
    """就读方式."""

    DAY = "1", _("Day student")
    BOARDING = "2", _("Boarding")


class EntryMethod(models.TextChoices):
    """入学方式."""

    NEARBY = "1", _("Nearby enrolment")
    RELATIVELY_NEARBY = "2", _("Relatively nearby enrolment")
    EXAMINATION = "3", _("Entrance examination or selection")
    PRIVATE = "4", _("Private school admission")
    OTHER = "9", _("Other")


class LeftBehind(models.TextChoices):
    """留守儿童: 0 no, 1 one parent works away, 2 both do."""

    NO = "0", _("No")
    ONE_PARENT_AWAY = "1", _("One parent away")
    BOTH_PARENTS_AWAY = "2", _("Both parents away")


@cache
def nationality_codes() -> frozenset[str]:
    """The alpha-3 codes a nationality may take; computed once, checked on every registration."""
    return frozenset(code for code, _name in nationality_choices())


def nationality_choices() -> list[tuple[str, str]]:
    """ISO 3166-1 alpha-3 countries and regions from pycountry, China first."""
    # Imported here, not at the top: pycountry takes about 0.15 s to load, and only the forms
    # and checks of a nationality need it, not every command that starts Django.
    import pycountry

    countries = sorted(pycountry.countries, key=lambda c: c.alpha_3 != "CHN")
    return [(c.alpha_3, c.name) for c in countries]


def nationality_label(alpha_3: str, language: str = "zh_CN") -> str:
    """The country's name in the given language, from pycountry's translations."""
    import pycountry  # loaded on first use, as in nationality_choices

    country = pycountry.countries.get(alpha_3=alpha_3)
    if country is None:
        return alpha_3
    if language.startswith("zh"):
        translation = gettext.translation(
            "iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"], fallback=True
        )
        return translation.gettext(country.name)
    return str(country.name)
