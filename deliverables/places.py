"""Villages as villagers name them, and the committees that sign for them.

The divisions file names a village by its committee in most places (五苗树村委会, 北元村村委会, 官渠巷社区居委会) and
a Mongolian gacha as 乌日根嘎查村; people say 五苗树村, 北元村, 官渠巷社区, 乌日根嘎查. A notice's title names the place;
the committee of the place signs it (五苗树村村民委员会, 乌日根嘎查村民委员会, 官渠巷社区居民委员会).
"""

from __future__ import annotations

# committee suffixes of villages, longest first; a typo'd one (村民委会, 村民委员) occurs in the divisions file too
_VILLAGE_COMMITTEE = ("村民委员会", "村民委会", "村民委员", "村委会")
_RESIDENTS_COMMITTEE = ("居民委员会", "居委会")


def village_place(name: str) -> str:
    """The place a village name stands for: 五苗树村委会 → 五苗树村, 北元村村委会 → 北元村, 新建村民委员会 → 新建村,
    乌日根嘎查村 and 乌日根嘎查村民委员会 → 乌日根嘎查, 官渠巷社区居委会 → 官渠巷社区; a name that is nothing but a
    suffix, or has none, stays as it is (apart from 嘎查村 → 嘎查)."""
    for suffix in _RESIDENTS_COMMITTEE:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    place = name
    for suffix in _VILLAGE_COMMITTEE:
        if name.endswith(suffix) and len(name) > len(suffix):
            place = name[: -len(suffix)]
            if not place.endswith(("村", "嘎查")):
                place += "村"
            break
    if place.endswith("嘎查村") and len(place) > 3:
        place = place[:-1]  # 嘎查 is the village; 嘎查村 is the administrative form
    return place


def village_committee(name: str) -> str:
    """The committee of the village named ``name``: 五苗树村委会 → 五苗树村村民委员会, 乌日根嘎查村 → 乌日根嘎查村民委员会,
    官渠巷社区居委会 → 官渠巷社区居民委员会, 乌日根嘎查村村民委员会 → 乌日根嘎查村民委员会."""
    place = village_place(name)
    if place == name and name.endswith(_VILLAGE_COMMITTEE + _RESIDENTS_COMMITTEE):
        return name  # nothing but a suffix
    if name.endswith(_RESIDENTS_COMMITTEE) or place.endswith("社区"):
        return place + "居民委员会"
    return place + "村民委员会"
