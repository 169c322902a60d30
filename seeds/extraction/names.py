"""Places, states and organisations named in Russian or English text, in any case.

Russian words are matched by their lemmas (pymorphy3 with its shipped dictionaries), so
«в Астане», «Казахстана», «итальянского», «Кыргызской Республикой» all resolve; English
words by their lowercase form. The lists are the region's and its partners': a name not
listed is simply not proposed (the editor adds it).
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

import pymorphy3


class Name(NamedTuple):
    code: str  # ISO 3166-1 alpha-2, or an organisation of events.facts.ORGANISATIONS
    en: str
    ru: str
    kind: str  # "country", "city", "org", "region", "adjective" (of a state), "leader"
    country: str | None = None  # a city's country


CENTRAL_ASIA = ("KZ", "KG", "TJ", "TM", "UZ")

# country code, English, Russian, then further Russian lemmas / English forms naming it
_COUNTRIES = [
    ("KZ", "Kazakhstan", "Казахстан", "республика казахстан|рк", "kazakh|kazakhstani"),
    (
        "KG",
        "Kyrgyzstan",
        "Кыргызстан",
        "киргизия|кыргызская республика|кр",
        "kyrgyz|kyrgyz republic",
    ),
    ("TJ", "Tajikistan", "Таджикистан", "республика таджикистан", "tajik"),
    ("TM", "Turkmenistan", "Туркменистан", "туркмения", "turkmen"),
    ("UZ", "Uzbekistan", "Узбекистан", "республика узбекистан", "uzbek"),
    ("IT", "Italy", "Италия", "итальянская республика", "italian"),
    ("AZ", "Azerbaijan", "Азербайджан", "", "azerbaijani"),
    ("RU", "Russia", "Россия", "российская федерация|рф", "russian|russian federation"),
    ("CN", "China", "Китай", "кнр", "chinese|people's republic of china"),
    ("US", "United States", "США", "соединённые штаты|соединенные штаты", "american|usa|u.s."),
    ("TR", "Turkey", "Турция", "турецкая республика", "turkish|türkiye"),
    ("IR", "Iran", "Иран", "", "iranian"),
    ("AF", "Afghanistan", "Афганистан", "", "afghan"),
    ("IN", "India", "Индия", "", "indian"),
    ("PK", "Pakistan", "Пакистан", "", "pakistani"),
    ("JP", "Japan", "Япония", "", "japanese"),
    ("KR", "South Korea", "Республика Корея", "южная корея", "korean|republic of korea"),
    ("DE", "Germany", "Германия", "фрг", "german"),
    ("FR", "France", "Франция", "", "french"),
    ("GB", "United Kingdom", "Великобритания", "", "british|uk"),
    ("MN", "Mongolia", "Монголия", "", "mongolian"),
    ("BY", "Belarus", "Беларусь", "белоруссия", "belarusian"),
    ("AM", "Armenia", "Армения", "", "armenian"),
    ("GE", "Georgia", "Грузия", "", "georgian"),
    ("SA", "Saudi Arabia", "Саудовская Аравия", "", "saudi"),
    ("AE", "United Arab Emirates", "ОАЭ", "объединённые арабские эмираты", "emirati|uae"),
    ("QA", "Qatar", "Катар", "", "qatari"),
    ("HU", "Hungary", "Венгрия", "", "hungarian"),
    ("ES", "Spain", "Испания", "", "spanish"),
    ("BE", "Belgium", "Бельгия", "", "belgian"),
    ("CH", "Switzerland", "Швейцария", "", "swiss"),
]
# adjectives of states (Russian lemmas)
_ADJECTIVES = {
    "казахстанский": "KZ",
    "казахский": "KZ",
    "кыргызский": "KG",
    "киргизский": "KG",
    "кыргызстанский": "KG",
    "таджикский": "TJ",
    "таджикистанский": "TJ",
    "туркменский": "TM",
    "туркменистанский": "TM",
    "узбекский": "UZ",
    "узбекистанский": "UZ",
    "итальянский": "IT",
    "азербайджанский": "AZ",
    "российский": "RU",
    "китайский": "CN",
    "американский": "US",
    "турецкий": "TR",
    "иранский": "IR",
    "афганский": "AF",
    "индийский": "IN",
    "японский": "JP",
    "южнокорейский": "KR",
    "германский": "DE",
    "немецкий": "DE",
    "французский": "FR",
    "британский": "GB",
    "монгольский": "MN",
    "белорусский": "BY",
    "армянский": "AM",
    "грузинский": "GE",
    "венгерский": "HU",
    "испанский": "ES",
}
# city: code of country, English, Russian, further Russian lemmas
_CITIES = [
    ("KZ", "Astana", "Астана", "нур-султан"),
    ("KZ", "Almaty", "Алматы", "алма-ата"),
    ("KZ", "Turkistan", "Туркестан", ""),
    ("UZ", "Tashkent", "Ташкент", ""),
    ("UZ", "Samarkand", "Самарканд", ""),
    ("UZ", "Bukhara", "Бухара", ""),
    ("UZ", "Khiva", "Хива", ""),
    ("KG", "Bishkek", "Бишкек", ""),
    ("KG", "Cholpon-Ata", "Чолпон-Ата", ""),
    ("KG", "Osh", "Ош", ""),
    ("TJ", "Dushanbe", "Душанбе", ""),
    ("TM", "Ashgabat", "Ашхабад", ""),
    ("TM", "Avaza", "Аваза", "аваз"),
    ("TM", "Turkmenbashi", "Туркменбаши", ""),
    ("IT", "Rome", "Рим", ""),
    ("IT", "Milan", "Милан", ""),
    ("RU", "Moscow", "Москва", ""),
    ("RU", "Saint Petersburg", "Санкт-Петербург", ""),
    ("RU", "Kazan", "Казань", ""),
    ("CN", "Beijing", "Пекин", ""),
    ("CN", "Xi'an", "Сиань", ""),
    ("US", "New York", "Нью-Йорк", ""),
    ("US", "Washington", "Вашингтон", ""),
    ("BE", "Brussels", "Брюссель", ""),
    ("DE", "Berlin", "Берлин", ""),
    ("FR", "Paris", "Париж", ""),
    ("GB", "London", "Лондон", ""),
    ("AZ", "Baku", "Баку", ""),
    ("TR", "Ankara", "Анкара", ""),
    ("TR", "Istanbul", "Стамбул", ""),
    ("JP", "Tokyo", "Токио", ""),
    ("KR", "Seoul", "Сеул", ""),
    ("CH", "Geneva", "Женева", ""),
    ("IR", "Tehran", "Тегеран", ""),
    ("IN", "New Delhi", "Нью-Дели", ""),
    ("SA", "Riyadh", "Эр-Рияд", ""),
    ("SA", "Jeddah", "Джидда", ""),
    ("AE", "Abu Dhabi", "Абу-Даби", ""),
    ("AE", "Dubai", "Дубай", ""),
    ("QA", "Doha", "Доха", ""),
    ("HU", "Budapest", "Будапешт", ""),
]
CAPITALS = {
    "KZ": "Astana",
    "UZ": "Tashkent",
    "KG": "Bishkek",
    "TJ": "Dushanbe",
    "TM": "Ashgabat",
    "IT": "Rome",
    "RU": "Moscow",
    "CN": "Beijing",
    "AZ": "Baku",
    "TR": "Ankara",
}
# organisations: code, English, Russian, Russian lemma sequences, English forms
_ORGS = [
    ("EU", "European Union", "Европейский союз", "ес|евросоюз", "eu|european union"),
    (
        "UN",
        "United Nations",
        "ООН",
        "организация объединённых наций|организация объединенных наций",
        "un|united nations",
    ),
    ("CIS", "CIS", "СНГ", "содружество независимых государств", "cis"),
    ("SCO", "SCO", "ШОС", "шанхайская организация сотрудничества", "sco"),
    ("CSTO", "CSTO", "ОДКБ", "", "csto"),
    ("EAEU", "EAEU", "ЕАЭС", "", "eaeu"),
    ("OSCE", "OSCE", "ОБСЕ", "", "osce"),
    ("OTS", "Organization of Turkic States", "ОТГ", "организация тюркских государств", "ots"),
    ("CICA", "CICA", "СВМДА", "", "cica"),
    ("IFAS", "IFAS", "МФСА", "", "ifas"),
]
# leaders who name their state as participants (surname lemmas / English surnames)
_LEADERS = {
    "токаев": "KZ",
    "tokayev": "KZ",
    "мирзиёев": "UZ",
    "мирзиеев": "UZ",
    "mirziyoyev": "UZ",
    "жапаров": "KG",
    "japarov": "KG",
    "zhaparov": "KG",
    "рахмон": "TJ",
    "rahmon": "TJ",
    "бердымухамедов": "TM",
    "berdimuhamedov": "TM",
    "мелони": "IT",
    "meloni": "IT",
    "алиев": "AZ",
    "aliyev": "AZ",
}
_REGION = ("центральный азия", "central asia", "ца")


@functools.cache
def morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


@functools.lru_cache(maxsize=65536)
def lemmas(word: str) -> frozenset[str]:
    """The word lowercased and every normal form pymorphy3 gives it (ё read as е)."""
    low = word.lower()
    forms = {low}
    if re.search("[а-яё]", low):
        forms |= {p.normal_form for p in morph().parse(low)}
        if "-" in low.strip("-"):  # «бизнес-форума» is a kind of «форум»
            forms |= {p.normal_form for p in morph().parse(low.rsplit("-", 1)[1])}
    return frozenset(f.replace("ё", "е") for f in forms)


def _key(text: str) -> tuple[str, ...]:
    """A name's tokens as lemmas would match them: the nominative lowercased."""
    return tuple(w.replace("ё", "е") for w in text.lower().split())


def _entries() -> dict[tuple[str, ...], Name]:
    table: dict[tuple[str, ...], Name] = {}
    for code, en, ru, ru_more, en_more in _COUNTRIES:
        name = Name(code, en, ru, "country", code)
        for form in [ru, en, *filter(None, ru_more.split("|"))]:
            table[_key(form)] = name
        for form in filter(None, en_more.split("|")):
            table[_key(form)] = name._replace(kind="adjective")
    for lemma, code in _ADJECTIVES.items():
        table[_key(lemma)] = Name(code, code, code, "adjective", code)
    for code, en, ru, ru_more in _CITIES:
        name = Name(code, en, ru, "city", code)
        for form in [ru, en, *filter(None, ru_more.split("|"))]:
            table[_key(form)] = name
    for code, en, ru, ru_more, en_more in _ORGS:
        name = Name(code, en, ru, "org")
        for form in [ru, *filter(None, ru_more.split("|")), *filter(None, en_more.split("|"))]:
            table[_key(form)] = name
    for surname, code in _LEADERS.items():
        table[_key(surname)] = Name(code, code, code, "leader", code)
    for form in _REGION:
        table[_key(form)] = Name("", "Central Asia", "Центральная Азия", "region")
    return table


_TABLE = _entries()
_LONGEST = max(len(k) for k in _TABLE)
_WORD = re.compile(r"[A-Za-zА-Яа-яЁё][\w'’.\-]*[\w]|[A-Za-zА-Яа-яЁё]")
CITY_BY_EN = {name.en: name for name in _TABLE.values() if name.kind == "city"}


class Found(NamedTuple):
    name: Name
    start: int
    end: int


def find_names(text: str) -> list[Found]:
    """Every listed name in the text, longest first, left to right."""
    words = [(m.start(), m.end(), lemmas(m[0].rstrip("."))) for m in _WORD.finditer(text)]
    found: list[Found] = []
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            window = words[i : i + size]
            name = _match(window)
            if name is not None:
                found.append(Found(name, window[0][0], window[-1][1]))
                i += size
                break
        else:
            i += 1
    return found


def _match(window: list[tuple[int, int, frozenset[str]]]) -> Name | None:
    # try each combination only for short windows: names are at most a few words
    keys: list[tuple[str, ...]] = [()]
    for _, _, forms in window:
        keys = [(*k, f) for k in keys for f in forms]
        if len(keys) > 64:
            return None
    for key in keys:
        if key in _TABLE:
            return _TABLE[key]
    return None
