"""The synthetic Chinese set of bench/duplicates.py: children, their second records (一人多籍)
with the kinds of difference the issue names, and the hard negatives (twins, namesakes).

Written and committed BEFORE the matcher (xueji.identity.matching) and not changed to suit it:
the error rates below are the bench's, fixed here.

Each row has the columns of `xueji duplicates check-file` plus `entity` (the true child) and
`kind` (the difference of a duplicate, or `twin` / `namesake` / `original`).
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass

import opencc

from xueji.core.idnumbers import make_resident_id

# ---- the error rates (fixed before the matcher; not to be tuned) -------------------------------

# Share of children who get a second record, and how that record differs (the shares sum to 1).
DUPLICATE_RATE = 0.10
DUPLICATE_KINDS: dict[str, float] = {
    "j_number": 0.20,  # second record without an ID number (J number), the rest copied
    "homophone": 0.15,  # one given-name character replaced by a homophone (张春铭 / 张春明)
    "traditional": 0.10,  # the name written in traditional characters
    "swapped_parents": 0.10,  # father and mother in each other's place
    "id_typo": 0.15,  # one or two digits of the ID number differ (check character recomputed)
    "date_swap": 0.10,  # month and day swapped (day ≤ 12), or the day one off
    "passport": 0.10,  # registered on another document (passport / HK-Macao pass)
    "other_doc_minority": 0.10,  # a minority name typed without or with another middle dot
}
# Noise on every duplicate, whatever its kind (independent draws).
NOISE_MISSING_PARENT_ID = 0.30  # one parent's ID number left empty
NOISE_MISSING_PARENT = 0.10  # one parent left out entirely
NOISE_OTHER_BIRTHPLACE = 0.10  # birthplace recorded as the household county instead
NOISE_OTHER_COUNTY = 0.60  # the second record sits in another county (a move, a second school)
# Share of children born as twins (same parents and birth date, another given name).
TWIN_RATE = 0.02
# Share of children who get a namesake: a child of the same common name born the same day in the
# same county, of other parents.
NAMESAKE_RATE = 0.02
# Share of children with a rare character (生僻字, outside GB 2312) in the given name.
RARE_CHARACTER_RATE = 0.01
# Share of minority children with a name in parts joined by '·'.
MINORITY_RATE = 0.03

# ---- the pools -------------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐")
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红梅鑫波斌宇浩凯健俊帆帅旭宁龙林"
    "欣怡雨萱梓涵子轩浩然一诺思彤佳琪语嫣晨曦嘉懿煜城懿轩烨华梦琪忆柳之桃慕青问兰尔岚元香初夏"
    "沛菡傲珊曼文乐菱痴珊恨玉惜文香寒新柔语蓉海安夜蓉涵柏水桃醉蓝春语琴从彤傲晴语兰又菱碧彤"
    "元霜怜梦紫寒妙彤曼易南莲紫翠雨寒易烟如萱若南寻真晓亦向珊慕灵以蕊寻雁映易雪柳孤岚笑霜海云"
    "凝天沛珊寒云冰旋宛儿绿真盼儿晓霜碧凡夏菡曼香若烟半梦雅绿冰蓝灵槐平安书翠翠风香巧代云梦曼幼翠"
)
# Given names common enough to be shared by two children born the same day in one county.
COMMON_GIVEN = ("伟", "芳", "静", "敏", "磊", "洋", "勇", "杰", "涛", "婷", "浩然", "子轩", "梓涵")
# Characters with a homophone that registrars confuse (same pinyin, tone aside).
HOMOPHONES: dict[str, str] = {
    "明": "铭",
    "铭": "明",
    "伟": "玮",
    "玮": "伟",
    "丽": "莉",
    "莉": "丽",
    "华": "桦",
    "军": "君",
    "杰": "洁",
    "婷": "亭",
    "芳": "方",
    "涛": "滔",
    "敏": "闵",
    "霞": "侠",
    "静": "婧",
    "娜": "纳",
    "宇": "雨",
    "雨": "语",
    "欣": "馨",
    "怡": "宜",
    "晨": "辰",
    "轩": "萱",
    "萱": "轩",
    "涵": "含",
    "琪": "淇",
    "春": "椿",
    "平": "萍",
    "萍": "平",
    "红": "宏",
    "梅": "玫",
    "波": "博",
    "斌": "彬",
    "浩": "皓",
    "凯": "恺",
    "俊": "峻",
    "龙": "珑",
    "林": "琳",
    "玉": "钰",
    "英": "瑛",
    "文": "雯",
    "云": "芸",
    "海": "嗨",
}
# Outside GB 2312 (in GBK / GB 18030): 生僻字 of given names.
RARE = "堃喆昇珺婕旻玥琮璟瑄祎炜翀赟犇淼"
MINORITY_GIVEN = ("阿依古丽", "买买提", "热依拉", "古丽娜尔", "艾力", "努尔", "迪丽", "帕提古丽")
MINORITY_FAMILY = ("买买提", "吐尔逊", "艾买提", "阿不都", "热合曼", "玉素甫")
DOTS = ("·", "•", "")
COUNTIES = [
    "110101",
    "110105",
    "110108",
    "120101",
    "130102",
    "140105",
    "150102",
    "210102",
    "220102",
    "230102",
    "310101",
    "310104",
    "320102",
    "330102",
    "340102",
    "350102",
    "360102",
    "370102",
    "410102",
    "420102",
    "430102",
    "440103",
    "440304",
    "440305",
    "450102",
    "460105",
    "500101",
    "510104",
    "520102",
    "530102",
    "540102",
    "610102",
    "620102",
    "630102",
    "640104",
    "650102",
]
ETHNIC_HAN = "01"
ETHNIC_UYGHUR = "05"


@dataclass
class Row:
    record_id: str
    name: str
    sex: str
    birth_date: str
    id_type: str
    id_number: str
    birthplace: str
    ethnicity: str
    father_name: str
    father_id: str
    mother_name: str
    mother_id: str
    school_county: str
    entity: int
    kind: str

    def as_dict(self) -> dict[str, str]:
        return {key: str(value) for key, value in self.__dict__.items()}


class Generator:
    """Children and their second records, reproducible from a seed."""

    def __init__(self, seed: int = 20260901) -> None:
        self.random = random.Random(seed)
        self.s2t = opencc.OpenCC("s2t")
        self.sequence = 0
        self.entity = 0

    # -- pieces --
    def _id(self, county: str, born: datetime.date, sex: str) -> str:
        seq = self.random.randrange(0, 500) * 2 + (1 if sex == "M" else 0)
        return make_resident_id(county, born, seq)

    def _adult_id(self, county: str, sex: str) -> str:
        born = datetime.date(1975, 1, 1) + datetime.timedelta(days=self.random.randrange(7000))
        return self._id(county, born, sex)

    def _given(self) -> str:
        if self.random.random() < RARE_CHARACTER_RATE:
            return self.random.choice(RARE) + self.random.choice(GIVEN)
        size = 1 if self.random.random() < 0.3 else 2
        return "".join(self.random.choice(GIVEN) for _ in range(size))

    def _surname(self) -> str:
        if self.random.random() < 0.01:
            return self.random.choice(COMPOUND_SURNAMES)
        return self.random.choice(SURNAMES)

    def _adult(self, surname: str | None = None) -> str:
        return (surname or self._surname()) + self._given()

    def _record_id(self) -> str:
        self.sequence += 1
        return f"R{self.sequence:08d}"

    def child(self, *, county: str | None = None, born: datetime.date | None = None) -> Row:
        """An original record of a new child."""
        self.entity += 1
        county = county or self.random.choice(COUNTIES)
        born = born or datetime.date(2010, 9, 1) + datetime.timedelta(
            days=self.random.randrange(12 * 365)
        )
        sex = self.random.choice("MF")
        father_surname = self._surname()
        minority = self.random.random() < MINORITY_RATE
        if minority:
            name = self.random.choice(MINORITY_GIVEN) + "·" + self.random.choice(MINORITY_FAMILY)
            ethnicity = ETHNIC_UYGHUR
            father = self.random.choice(MINORITY_GIVEN) + "·" + self.random.choice(MINORITY_FAMILY)
            mother = self.random.choice(MINORITY_GIVEN) + "·" + self.random.choice(MINORITY_FAMILY)
        else:
            name = father_surname + self._given()
            ethnicity = ETHNIC_HAN
            father = self._adult(father_surname)
            mother = self._adult()
        return Row(
            record_id=self._record_id(),
            name=name,
            sex=sex,
            birth_date=born.isoformat(),
            id_type="resident_id",
            id_number=self._id(county, born, sex),
            birthplace=county,
            ethnicity=ethnicity,
            father_name=father,
            father_id=self._adult_id(county, "M"),
            mother_name=mother,
            mother_id=self._adult_id(county, "F"),
            school_county=county,
            entity=self.entity,
            kind="original",
        )

    def twin(self, of: Row) -> Row:
        """A twin: same parents and birth date, another given name (a hard negative)."""
        self.entity += 1
        surname = of.name[:2] if of.name[:2] in COMPOUND_SURNAMES else of.name[:1]
        given = self._given()
        while surname + given == of.name:
            given = self._given()
        born = datetime.date.fromisoformat(of.birth_date)
        sex = self.random.choice("MF")
        return Row(
            **{
                **of.__dict__,
                "record_id": self._record_id(),
                "name": surname + given
                if "·" not in of.name
                else self.random.choice(MINORITY_GIVEN) + "·" + of.name.split("·")[1],
                "sex": sex,
                "id_number": self._id(of.birthplace, born, sex),
                "entity": self.entity,
                "kind": "twin",
            }
        )

    def namesake(self, of: Row) -> Row:
        """A child of a common name born the same day in the same county, other parents."""
        self.entity += 1
        other = self.child(county=of.school_county, born=datetime.date.fromisoformat(of.birth_date))
        other.entity = self.entity
        other.kind = "namesake"
        return other

    def duplicate(self, of: Row, kind: str) -> Row:
        """The second record of the same child, differing by `kind`, with noise."""
        row = Row(**{**of.__dict__, "record_id": self._record_id(), "kind": kind})
        born = datetime.date.fromisoformat(of.birth_date)
        if kind == "j_number":
            row.id_type, row.id_number = "none", ""
        elif kind == "homophone":
            positions = [i for i, ch in enumerate(of.name) if ch in HOMOPHONES and i > 0]
            if positions:
                i = self.random.choice(positions)
                row.name = of.name[:i] + HOMOPHONES[of.name[i]] + of.name[i + 1 :]
            else:  # no homophone at hand: the given name's last character as its homophone
                row.name = of.name[:-1] + "铭"
        elif kind == "traditional":
            row.name = self.s2t.convert(of.name)
        elif kind == "swapped_parents":
            row.father_name, row.mother_name = of.mother_name, of.father_name
            row.father_id, row.mother_id = of.mother_id, of.father_id
        elif kind == "id_typo":
            digits = list(of.id_number[:17])
            for i in self.random.sample(range(14, 17), self.random.choice((1, 2))):
                digits[i] = str((int(digits[i]) + self.random.randrange(1, 9)) % 10)
            body = "".join(digits)
            row.id_number = make_resident_id(body[:6], born, int(body[14:17]))
        elif kind == "date_swap":
            if born.day <= 12 and born.day != born.month and self.random.random() < 0.5:
                swapped = datetime.date(born.year, born.day, born.month)
            else:
                swapped = born + datetime.timedelta(days=self.random.choice((-1, 1)))
            row.birth_date = swapped.isoformat()
        elif kind == "passport":
            row.id_type = self.random.choice(("passport", "hk_macao"))
            row.id_number = "E" + "".join(str(self.random.randrange(10)) for _ in range(8))
        elif kind == "other_doc_minority":
            row.id_type, row.id_number = "none", ""
            row.name = of.name.replace("·", self.random.choice(DOTS))
        if self.random.random() < NOISE_MISSING_PARENT_ID:
            if self.random.random() < 0.5:
                row.father_id = ""
            else:
                row.mother_id = ""
        if self.random.random() < NOISE_MISSING_PARENT:
            if self.random.random() < 0.5:
                row.father_name, row.father_id = "", ""
            else:
                row.mother_name, row.mother_id = "", ""
        if self.random.random() < NOISE_OTHER_BIRTHPLACE:
            row.birthplace = of.school_county
        if self.random.random() < NOISE_OTHER_COUNTY:
            row.school_county = self.random.choice(COUNTIES)
        return row

    def _kind(self) -> str:
        draw, total = self.random.random(), 0.0
        for kind, share in DUPLICATE_KINDS.items():
            total += share
            if draw < total:
                return kind
        return kind

    def rows(self, count: int) -> Iterator[Row]:
        """About `count` rows: children, their twins and namesakes, and second records."""
        made = 0
        while made < count:
            original = self.child()
            group = [original]
            if self.random.random() < TWIN_RATE:
                group.append(self.twin(original))
            if self.random.random() < NAMESAKE_RATE and "·" not in original.name:
                namesake = self.namesake(original)
                common = original.name[:1] + self.random.choice(COMMON_GIVEN)
                original.name = namesake.name = common
                group.append(namesake)
            if self.random.random() < DUPLICATE_RATE:
                group.append(self.duplicate(original, self._kind()))
            yield from group
            made += len(group)


def true_pairs(rows: list[Row]) -> dict[tuple[str, str], str]:
    """The pairs of records of one child, each with the kind of its difference."""
    by_entity: dict[int, list[Row]] = {}
    for row in rows:
        by_entity.setdefault(row.entity, []).append(row)
    pairs: dict[tuple[str, str], str] = {}
    for members in by_entity.values():
        if len(members) == 2:
            first, second = members
            key = tuple(sorted((first.record_id, second.record_id)))
            pairs[(key[0], key[1])] = second.kind
    return pairs
