"""Name tables for synthetic people: surnames by frequency, given names by generation and sex.

Surnames and their shares come from Faker's zh_CN table (the 2000s census ranking). Children's
given names are the popular names of the 2010s and 2020s; parents' and grandparents' are Faker's,
which are those of the 1950s-1980s. Weights fall off with rank, as name frequencies do.
"""

from __future__ import annotations

from faker.providers.person.zh_CN import Provider as _ZhPerson

# Children's names are drawn from the most common surnames only: every distinct full name needs
# its pinyin computed once, and 120 surnames cover nine in ten people.
CHILD_SURNAME_COUNT = 120

_BOYS = """
子轩 浩宇 浩然 宇轩 梓豪 俊熙 皓轩 宇航 博文 子墨 亦辰 沐宸 浩轩 宇泽 明轩 梓睿 睿泽
俊杰 天佑 思远 梓轩 宇辰 晨阳 子豪 家豪 嘉豪 承泽 铭轩 奕辰 一鸣 锦程 文博 皓宇 泽宇
俊宇 昊天 子健 思成 嘉乐 子昂 佳豪 永康 建宇 嘉懿 煜祺 智宸 正豪 昊然 明杰 立诚 立轩
立辉 峻熙 弘文 熠彤 鸿煊 烨霖 哲瀚 鑫鹏 致远 俊驰 雨泽 烨磊 晟睿 天翊 文昊 修洁 黎昕
远航 旭尧 鸿涛 伟祺 荣轩 越泽 浩宇 瑾瑜 皓轩 擎苍 擎宇 志泽 子睿 睿 轩 浩 杰 宇 博
涛 鑫 磊 昊 晨 阳 彬 凯
""".split()  # noqa: SIM905

_GIRLS = """
梓涵 一诺 欣怡 诗涵 梓萱 子涵 雨涵 可馨 语桐 若汐 欣妍 思彤 雨桐 佳怡 紫涵 诗琪 梦琪
子萱 依诺 芷若 语嫣 梓晴 静怡 雅琪 思琪 欣然 可欣 佳琪 晓彤 嘉怡 安琪 雨欣 沐晴 一涵
芊芊 悦悦 婉清 思语 诗雨 晨曦 心怡 晓雪 嘉欣 书瑶 梦瑶 乐瑶 艺涵 若曦 可心 思雨 婧琪
芯蕊 雅婷 雅静 淑怡 诗琳 馨予 语汐 梓琳 依依 梓欣 子怡 雨萱 佳琳 昕怡 紫萱 欣悦 思涵
美琪 若彤 晓萱 琳 婷 悦 萱 怡 欣 妍 琪 彤 瑶 涵 菲 璐 璇 岚
""".split()  # noqa: SIM905
BOYS_GIVEN_NAMES: tuple[str, ...] = tuple(dict.fromkeys(_BOYS))
GIRLS_GIVEN_NAMES: tuple[str, ...] = tuple(dict.fromkeys(_GIRLS))

_SURNAMES = sorted(_ZhPerson.last_names.items(), key=lambda item: -item[1])
SURNAMES: tuple[str, ...] = tuple(name for name, _share in _SURNAMES)
SURNAME_WEIGHTS: tuple[float, ...] = tuple(share for _name, share in _SURNAMES)
CHILD_SURNAMES = SURNAMES[:CHILD_SURNAME_COUNT]
CHILD_SURNAME_WEIGHTS = SURNAME_WEIGHTS[:CHILD_SURNAME_COUNT]

ADULT_MALE_GIVEN_NAMES: tuple[str, ...] = tuple(_ZhPerson.first_names_male)
ADULT_FEMALE_GIVEN_NAMES: tuple[str, ...] = tuple(_ZhPerson.first_names_female)


def rank_weights(count: int, flatness: float = 6.0) -> list[float]:
    """Weights that fall off with rank like name frequencies: 1/(rank + flatness)."""
    return [1.0 / (rank + flatness) for rank in range(count)]


ROADS: tuple[str, ...] = tuple(
    """
人民路 中山路 解放路 建设路 和平路 新华路 文化路 胜利路 东风路 滨江路 花园路 学府路
光明路 青年路 长安街 迎宾路 工业大道 振兴路 翠竹路 荔枝路 榕树街 南华街 北京路
红岭路 深南大道 华强路 天河路 体育西路 环市路 广州大道 东湖路 海滨路 科技路 创业路
""".split()  # noqa: SIM905
)

EMPLOYERS: tuple[str, ...] = tuple(
    """
个体经营 务农 自由职业 待业 家庭主妇 建筑工地 物流公司 外卖配送 制造厂 电子厂 服装厂
超市 餐饮店 医院 中学 小学 银行 保险公司 供电局 公交公司 出租车公司 派出所
街道办事处 社区居委会 科技有限公司 贸易有限公司 房地产公司 装修公司 汽车维修厂
快递公司 酒店
""".split()  # noqa: SIM905
)
