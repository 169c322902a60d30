"""Display names of participants and places' countries, in the service's languages."""

from __future__ import annotations

import functools
import gettext

import pycountry

# pycountry's Russian names follow ISO; the source documents use the names these states
# use for themselves in Russian.
_RU_OVERRIDES = {"KG": "Кыргызстан", "MD": "Молдова", "BY": "Беларусь", "US": "США"}

ORGANISATION_NAMES: dict[str, dict[str, str]] = {
    "EU": {"en": "European Union", "ru": "Европейский союз"},
    "UN": {"en": "United Nations", "ru": "Организация Объединённых Наций"},
    "CIS": {"en": "Commonwealth of Independent States", "ru": "Содружество Независимых Государств"},
    "SCO": {
        "en": "Shanghai Cooperation Organisation",
        "ru": "Шанхайская организация сотрудничества",
    },
    "CSTO": {
        "en": "Collective Security Treaty Organisation",
        "ru": "Организация Договора о коллективной безопасности",
    },
    "EAEU": {"en": "Eurasian Economic Union", "ru": "Евразийский экономический союз"},
    "OSCE": {
        "en": "Organization for Security and Co-operation in Europe",
        "ru": "Организация по безопасности и сотрудничеству в Европе",
    },
    "OTS": {"en": "Organization of Turkic States", "ru": "Организация тюркских государств"},
    "CICA": {
        "en": "Conference on Interaction and Confidence-Building Measures in Asia",
        "ru": "Совещание по взаимодействию и мерам доверия в Азии",
    },
    "ECO": {
        "en": "Economic Cooperation Organization",
        "ru": "Организация экономического сотрудничества",
    },
    "NATO": {"en": "NATO", "ru": "НАТО"},
    "ASEAN": {"en": "ASEAN", "ru": "АСЕАН"},
    "AU": {"en": "African Union", "ru": "Африканский союз"},
}


@functools.cache
def _russian() -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ru"], fallback=True)


@functools.cache
def participant_name(code: str, lang: str) -> str:
    """The name of a state (ISO alpha-2) or organisation code; the code itself if unknown."""
    if code in ORGANISATION_NAMES:
        return ORGANISATION_NAMES[code].get(lang, code)
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    name = getattr(country, "common_name", None) or country.name
    if lang == "ru":
        return _RU_OVERRIDES.get(code) or _russian().gettext(country.name)
    return name
