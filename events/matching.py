"""Is a proposed fact one the timeline already has? And how do the two dates relate?

Pure: given a proposal and stored facts (the caller picks candidates, such as facts of the
same kind near its date), `relate` names the stored fact it most likely is and the
relation: `same` (its date is consistent with the stored one and no more precise),
`refines` (strictly more precise and inside the stored bounds), or `conflicts` (outside
them). The same event is recognised from what the titles share (a format's name such as
«Центральная Азия – Китай» or C5+1, an ordinal, the kind's word), the place and the
participants; a differing ordinal, place country or format partner rules a candidate out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from events.dates import DateBounds, parse_edtf
from events.documents import Match, ProposedFact
from events.facts import Fact

_WORD = re.compile(r"[0-9a-zа-яё+]+", re.IGNORECASE)
# Words that say nothing about which event it is: every title here names Central Asia,
# and the kind is compared on its own.
_STOP_WORDS = (
    "a an the of in on at and to for with by from as its их и в на по с о об для при из "
    "к до со от глав государств государства heads state states central asia asian "
    "центральная центральной азия азии summit summits саммит саммита саммите meeting "
    "встреча встречи встрече conference конференция конференции forum форум форума "
    "roundtable круглый стол visit визит treaty договор agreement соглашение"
)
_STOP = frozenset(_STOP_WORDS.split())
# The region's own states: a format is named by the partner beside them (+ Italy, – China).
_REGION = frozenset({"KZ", "KG", "TJ", "TM", "UZ"})
_ORDINALS: dict[str, int] = {}
for _number, _forms in enumerate(
    (
        "first первый первая первое первого первой первом первую",
        "second второй вторая второе второго второй втором вторую",
        "third третий третья третье третьего третьей третьем третью",
        "fourth четвертый четвёртый четвертая четвёртая четвертое четвёртое четвертого четвёртого",
        "fifth пятый пятая пятое пятого пятой пятом",
        "sixth шестой шестая шестое шестого шестом",
        "seventh седьмой седьмая седьмое седьмого седьмом",
        "eighth восьмой восьмая восьмое восьмого восьмом",
        "ninth девятый девятая девятое девятого девятом",
        "tenth десятый десятая десятое десятого десятом",
    ),
    start=1,
):
    for _word in _forms.split():
        _ORDINALS[_word] = _number
_NUMERAL_ORDINAL = re.compile(r"\b(\d{1,3})(?:-?(?:й|я|е|го|ой|ом|st|nd|rd|th))\b", re.IGNORECASE)
SAME_EVENT = 3  # the score from which a candidate is taken to be the same event


def _stem(word: str) -> str:
    # Russian inflects the ends of words: comparing the first five letters is enough here
    # to see «саммита» and «саммит», «Китай» and «Китаем», as one word.
    return word.casefold()[:5]


def _words(titles: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for title in titles:
        for word in _WORD.findall(title):
            folded = word.casefold()
            if folded in _STOP or folded in _ORDINALS or folded.isdigit():
                continue
            out.add(_stem(folded))
    return out


def ordinal(titles: Iterable[str]) -> int | None:
    for title in titles:
        for word in _WORD.findall(title):
            if word.casefold() in _ORDINALS:
                return _ORDINALS[word.casefold()]
        if found := _NUMERAL_ORDINAL.search(title):
            return int(found[1])
    return None


def _score(proposal: ProposedFact, fact: Fact) -> int:
    if proposal.kind is not None and proposal.kind != fact.kind:
        return 0
    ours, theirs = ordinal(proposal.title.values()), ordinal(fact.title.values())
    if ours is not None and theirs is not None and ours != theirs:
        return 0
    place, stored_place = proposal.place, fact.place
    if (
        place
        and stored_place
        and place.country
        and stored_place.country
        and place.country != stored_place.country
    ):
        return 0
    partners = set(proposal.participants) - _REGION
    stored_partners = set(fact.participants) - _REGION
    if partners and stored_partners and not partners & stored_partners:
        return 0  # Central Asia + Italy is not Central Asia – China
    score = 2 if ours is not None and ours == theirs else 0
    # Titles compared in the languages both have.
    langs = set(proposal.title) & set(fact.title)
    a = _words(proposal.title[lang] for lang in langs)
    b = _words(fact.title[lang] for lang in langs)
    if a and b:
        shared = len(a & b) / min(len(a), len(b))
        score += 2 if shared >= 0.6 else 1 if shared >= 0.4 else 0
    if place and stored_place:
        names = {n.casefold() for n in place.name.values()}
        if names & {n.casefold() for n in stored_place.name.values()}:
            score += 1
    if proposal.participants and fact.participants:
        common = set(proposal.participants) & set(fact.participants)
        union = set(proposal.participants) | set(fact.participants)
        if len(common) / len(union) >= 0.6:
            score += 1
    return score


_EARLIEST, _LATEST = dt.date.min, dt.date.max


def relation(proposed: DateBounds, stored: DateBounds) -> str:
    """`same`, `refines` or `conflicts`: the proposed date against the stored one."""
    p0, p1 = proposed.start or _EARLIEST, proposed.end or _LATEST
    s0, s1 = stored.start or _EARLIEST, stored.end or _LATEST
    if s0 <= p0 and p1 <= s1:
        return "same" if (p0, p1) == (s0, s1) else "refines"
    if p0 <= s0 and s1 <= p1:
        return "same"  # less precise than what is stored, and consistent with it
    return "conflicts"


def relate(proposal: ProposedFact, candidates: Iterable[Fact]) -> Match | None:
    """The stored fact this proposal most likely describes, and how their dates relate."""
    best: tuple[int, Fact] | None = None
    for fact in candidates:
        score = _score(proposal, fact)
        if score >= SAME_EVENT and (best is None or score > best[0]):
            best = (score, fact)
    if best is None:
        return None
    fact = best[1]
    found = relation(parse_edtf(proposal.date.edtf), parse_edtf(fact.date.edtf))
    return Match(fact_id=fact.id, relation=found)  # type: ignore[arg-type]
