"""What a figure is about, as it travels in URLs: "nation", "province:440000", "city:440300",
"county:440304", "school:12", "grade:12:3" (grade 3 of school 12) or "class:55"; or a bare code,
a division's ("440304", whose level the division table gives: 东莞's "441900" is a county) or a
school's 学校标识码 ("4403040001")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from xueji.schools.models import MAX_GRADE, MIN_GRADE

LEVELS = ("nation", "province", "city", "county", "school", "grade", "class")
# A spec read from a bare code ("440304", "4403040001"), not yet resolved to one of LEVELS.
CODE = "code"
DIVISION_LEVELS = ("province", "city", "county")
# The units a level is made of, for drilling down and for the per-unit tables.
CHILD_LEVEL = {
    "nation": "province",
    "province": "city",
    "city": "county",
    "county": "school",
    "school": "class",
    "grade": "class",
    "class": None,
}

# The forms of a scope that the API documents (its OpenAPI `pattern`), each one that parse()
# reads; another form of area is one more entry here and in parse().
_ID = r"[1-9][0-9]{0,17}"
_GRADES = "|".join(str(grade) for grade in range(MIN_GRADE, MAX_GRADE + 1))
SCOPE_FORMS = (
    r"nation",
    r"(province|city|county):[0-9]{6}",
    rf"school:{_ID}",
    rf"grade:{_ID}:({_GRADES})",
    rf"class:{_ID}",
    r"[0-9]{6}",
    r"[0-9]{10}",
)
SCOPE_PATTERN = "^(" + "|".join(SCOPE_FORMS) + ")$"

_DIVISION = re.compile(r"^(province|city|county):([0-9]{6})$")
_SCHOOL = re.compile(r"^school:([0-9]{1,18})$")
_GRADE = re.compile(r"^grade:([0-9]{1,18}):(-?[0-9]{1,2})$")
_CLASS = re.compile(r"^class:([0-9]{1,18})$")
# A bare code: a division's six digits (its level is the division's) or a school's ten (学校标识码).
_CODE = re.compile(r"^([0-9]{6}|[0-9]{10})$")


class BadTarget(ValueError):
    pass


@dataclass(frozen=True)
class TargetSpec:
    level: str
    code: str = ""
    school_id: int | None = None
    grade: int | None = None
    class_id: int | None = None

    def __str__(self) -> str:
        if self.level == "nation":
            return "nation"
        if self.level in DIVISION_LEVELS:
            return f"{self.level}:{self.code}"
        if self.level == "school":
            return f"school:{self.school_id}"
        if self.level == "grade":
            return f"grade:{self.school_id}:{self.grade}"
        if self.level == CODE:
            return self.code
        return f"class:{self.class_id}"

    @classmethod
    def parse(cls, text: str) -> TargetSpec:
        text = (text or "").strip()
        if text == "nation":
            return cls("nation")
        if match := _DIVISION.match(text):
            return cls(match.group(1), code=match.group(2))
        if match := _SCHOOL.match(text):
            return cls("school", school_id=int(match.group(1)))
        if match := _GRADE.match(text):
            grade = int(match.group(2))
            if not MIN_GRADE <= grade <= MAX_GRADE:
                raise BadTarget(text)
            return cls("grade", school_id=int(match.group(1)), grade=grade)
        if match := _CLASS.match(text):
            return cls("class", class_id=int(match.group(1)))
        if match := _CODE.match(text):
            # Which area it is, the database says (xueji.stats.selectors.targeting).
            return cls(CODE, code=match.group(1))
        raise BadTarget(text)
