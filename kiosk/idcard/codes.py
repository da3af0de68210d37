"""Code tables printed on cards: sex (GB/T 2261.1), nation (GB/T 3304) and common nationalities (GB/T 2659)."""

from __future__ import annotations

SEXES = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}

# GB/T 3304 as the card prints it ("汉", not "汉族"); 97/98 are the standard's own extensions.
_NATION_TABLE = (
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 纳西 景颇 "
    "柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 "
    "塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
)
NATIONS: dict[str, str] = {f"{i:02d}": name for i, name in enumerate(_NATION_TABLE.split(), start=1)}
NATIONS |= {"97": "其他", "98": "外国血统中国籍人士"}

# Alpha-3 codes a hall meets most; anything else is shown as the code itself.
NATIONALITIES = {
    "USA": "美国",
    "GBR": "英国",
    "CAN": "加拿大",
    "AUS": "澳大利亚",
    "DEU": "德国",
    "FRA": "法国",
    "ITA": "意大利",
    "ESP": "西班牙",
    "RUS": "俄罗斯",
    "JPN": "日本",
    "KOR": "韩国",
    "SGP": "新加坡",
    "MYS": "马来西亚",
    "THA": "泰国",
    "VNM": "越南",
    "IND": "印度",
    "PAK": "巴基斯坦",
    "BRA": "巴西",
    "ZAF": "南非",
    "NZL": "新西兰",
}


def sex_name(code: str) -> str:
    """'1' → 男; an unknown code is returned as it is."""
    return SEXES.get(code.strip(), code.strip())


def nation_name(code: str) -> str:
    """'01' → 汉; an unknown code is returned as it is."""
    return NATIONS.get(code.strip(), code.strip())


def nation_code(name: str) -> str:
    """汉 → '01' (the simulator writes codes); raises KeyError for an unknown name."""
    for code, known in NATIONS.items():
        if known == name or f"{known}族" == name:
            return code
    raise KeyError(f"unknown nation {name!r}")


def nationality_name(code: str) -> str:
    """'USA' → 美国; an unknown code is returned as it is."""
    return NATIONALITIES.get(code.strip().upper(), code.strip())
