"""Read a document and propose the dated facts it states, each with its evidence.

Pure: text in, proposals out (no HTTP, no SQL, no events). A proposal carries the fact's
fields as POST /api/v1/facts takes them, as far as the text gives them, plus the date's
bounds and label, the paragraph and exact quote that say it, what was inferred and which
fields were generated (for the editor to check).

A date becomes a proposal only when its sentence names an event (a summit, a treaty, a
programme ...): "trade grew 20% in 2024" has a date but states no fact.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import msgspec
import razdel
from pymorphy3.analyzer import Parse

from events.dates import parse_edtf
from events.documents import paragraphs as split_paragraphs
from events.facts import KINDS, STATUSES
from seeds.extraction.dates import DateMention, dateline, find_dates
from seeds.extraction.names import (
    CAPITALS,
    CENTRAL_ASIA,
    CITY_BY_EN,
    Found,
    find_names,
    lemmas,
    morph,
)

CAPITAL_OF = "city: the capital of the country the text names"


class Evidence(msgspec.Struct, frozen=True):
    paragraph: int  # 1-based
    quote: str  # an exact substring of that paragraph


class PlaceProposal(msgspec.Struct, frozen=True, omit_defaults=True):
    name: dict[str, str]
    country: str | None = None


class DateProposal(msgspec.Struct, frozen=True):
    edtf: str


class Proposal(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    title: dict[str, str]
    summary: dict[str, str]
    kind: str
    status: str
    date: DateProposal
    bounds: dict[str, str | None]  # {"start": ISO day or None, "end": ..., "precision": ...}
    label: dict[str, str]
    evidence: Evidence
    place: PlaceProposal | None = None
    participants: list[str] = msgspec.field(default_factory=list)
    tags: list[str] = msgspec.field(default_factory=list)
    inferred: list[str] = msgspec.field(default_factory=list)
    generated: list[str] = msgspec.field(default_factory=list)


class Document(msgspec.Struct, frozen=True):
    paragraphs: list[str]
    proposals: list[Proposal]


# Kind words: Russian lemma sequences and English words (lowercase).
_KIND_WORDS: dict[tuple[str, ...], str] = {
    ("саммит",): "summit",
    ("встреча",): "meeting",
    ("заседание",): "meeting",
    ("переговоры",): "meeting",
    ("консультация",): "meeting",
    ("конференция",): "conference",
    ("визит",): "visit",
    ("форум",): "forum",
    ("договор",): "treaty",
    ("соглашение",): "agreement",
    ("меморандум",): "agreement",
    ("круглый", "стол"): "roundtable",
    ("программа",): "programme",
    ("инициатива",): "initiative",
    ("дорожный", "карта"): "document",
    ("стратегия",): "document",
    ("декларация",): "document",
    ("концепция",): "document",
    ("выборы",): "election",
    ("выставка",): "other",
    ("ярмарка",): "other",
    ("фестиваль",): "other",
    ("exhibition",): "other",
    ("expo",): "other",
    ("fair",): "other",
    ("festival",): "other",
    ("summit",): "summit",
    ("meeting",): "meeting",
    ("talks",): "meeting",
    ("conference",): "conference",
    ("visit",): "visit",
    ("forum",): "forum",
    ("treaty",): "treaty",
    ("agreement",): "agreement",
    ("memorandum",): "agreement",
    ("round", "table"): "roundtable",
    ("roundtable",): "roundtable",
    ("programme",): "programme",
    ("program",): "programme",
    ("initiative",): "initiative",
    ("roadmap",): "document",
    ("road", "map"): "document",
    ("strategy",): "document",
    ("declaration",): "document",
    ("election",): "election",
    ("elections",): "election",
}
assert set(_KIND_WORDS.values()) <= KINDS

# Status cues that override tense: Russian lemmas, English word stems.
_STATUS_CUES: dict[str, str] = {
    "отложить": "postponed",
    "перенести": "postponed",
    "отменить": "cancelled",
    "предложить": "proposed",
    "предложение": "proposed",
    "выдвинуть": "proposed",
    "планироваться": "planned",
    "планировать": "planned",
    "наметить": "planned",
    "намечать": "planned",
    "запланировать": "planned",
    "ожидаться": "planned",
    "предстоящий": "planned",
    "postponed": "postponed",
    "delayed": "postponed",
    "rescheduled": "postponed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "proposed": "proposed",
    "proposal": "proposed",
    "suggested": "proposed",
    "scheduled": "planned",
    "planned": "planned",
    "expected": "planned",
    "upcoming": "planned",
    "will": "planned",
    "would": "planned",
    "договориться": "planned",
    "agreed": "planned",
}
# Verbs whose tense says whether the event happened (Russian lemmas) / English past forms.
_EVENT_VERBS = frozenset(
    [
        "состояться",
        "пройти",
        "проходить",
        "провести",
        "проводить",
        "подписать",
        "принять",
        "разработать",
        "открыться",
        "собраться",
        "встретиться",
        "посетить",
        "завершиться",
        "стартовать",
        "быть",
    ]
)
_EN_HELD = frozenset(
    [
        "held",
        "took",
        "met",
        "signed",
        "hosted",
        "visited",
        "adopted",
        "concluded",
        "opened",
        "attended",
        "was",
        "were",
    ]
)
assert set(_STATUS_CUES.values()) <= STATUSES

_ORDINALS_RU = {
    "первый": ("First", 1),
    "второй": ("Second", 2),
    "третий": ("Third", 3),
    "четвёртый": ("Fourth", 4),
    "четвертый": ("Fourth", 4),
    "пятый": ("Fifth", 5),
    "шестой": ("Sixth", 6),
    "седьмой": ("Seventh", 7),
    "восьмой": ("Eighth", 8),
    "девятый": ("Ninth", 9),
    "десятый": ("Tenth", 10),
    "следующий": ("Next", 0),
}
_KIND_EN = {
    "summit": "summit",
    "meeting": "meeting",
    "conference": "conference",
    "visit": "visit",
    "forum": "forum",
    "treaty": "treaty",
    "agreement": "agreement",
    "roundtable": "roundtable",
    "programme": "programme",
    "initiative": "initiative",
    "document": "document",
    "election": "election",
    "other": "event",
}
_KIND_RU = {
    "summit": "Саммит",
    "meeting": "Встреча",
    "conference": "Конференция",
    "visit": "Визит",
    "forum": "Форум",
    "treaty": "Договор",
    "agreement": "Соглашение",
    "roundtable": "Круглый стол",
    "programme": "Программа",
    "initiative": "Инициатива",
    "document": "Документ",
    "election": "Выборы",
    "other": "Мероприятие",
}

_WORD = re.compile(r"[A-Za-zА-Яа-яЁё][\w\-]*|\d+-[йяе]")
# A programme or a document is adopted, not held somewhere: a city near it is where it was
# announced, so no place is proposed for them.
_PLACELESS = frozenset({"programme", "document"})


class _Word(msgspec.Struct, frozen=True):
    start: int
    end: int
    text: str
    forms: frozenset[str]


def _words(text: str) -> list[_Word]:
    return [_Word(m.start(), m.end(), m[0], lemmas(m[0])) for m in _WORD.finditer(text)]


def _kind_words(words: list[_Word]) -> list[tuple[int, int, str, int]]:
    """(start, end, kind, index of the first word) of every kind word."""
    out = []
    for i, w in enumerate(words):
        for key, kind in _KIND_WORDS.items():
            if all(i + j < len(words) and key[j] in words[i + j].forms for j in range(len(key))):
                out.append((w.start, words[i + len(key) - 1].end, kind, i))
                break
    return out


# A date in a clause that measures something ("emissions fell 3% in 2024", «товарооборот
# в 2024 году вырос на 20%») dates a figure, not an event.
_STATISTIC_WORDS = frozenset(
    [
        "вырасти",
        "увеличиться",
        "сократиться",
        "снизиться",
        "составить",
        "превысить",
        "упасть",
        "удвоиться",
        "grew",
        "rose",
        "fell",
        "increased",
        "decreased",
        "declined",
        "dropped",
        "amounted",
        "totalled",
        "totaled",
        "exceeded",
        "doubled",
    ]
)
_PERCENT = re.compile(r"\d\s*%|\bпроцент|\bper\s*cent", re.IGNORECASE)


def _is_statistic(words: list[_Word], sentence: str, lo: int, hi: int) -> bool:
    if _PERCENT.search(sentence, lo, hi):
        return True
    return any(lo <= w.start and w.end <= hi and w.forms & _STATISTIC_WORDS for w in words)


def _kind_for(
    kinds: list[tuple[int, int, str, int]], lo: int, hi: int, at: tuple[int, int]
) -> tuple[int, int, str, int]:
    """The event the date belongs to: the nearest kind word before it in its segment
    («конференции …, состоявшейся в 2024 году»), else after it («подписание 13 марта
    Договора»), else the nearest in the sentence."""
    inside = [k for k in kinds if lo <= k[0] and k[1] <= hi]
    before = [k for k in inside if k[1] <= at[0]]
    if before:
        return max(before, key=lambda k: k[1])
    after = [k for k in inside if k[0] >= at[1]]
    if after:
        return min(after, key=lambda k: k[0])
    return min(kinds, key=lambda k: _distance((k[0], k[1]), at))


def _distance(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, b[0] - a[1], a[0] - b[1])


def _segments(sentence: str, mentions: list[DateMention]) -> list[tuple[int, int, int, int]]:
    """The part of the sentence each date speaks for: up to the neighbouring dates, and
    not across «, а также» / ", as well as" (which starts another fact)."""
    cuts = [m.start() for m in re.finditer(r",\s+(?:а\s+также|as\s+well\s+as|while)\s|;", sentence)]
    spans = []
    for k, m in enumerate(mentions):
        lo = mentions[k - 1].end if k else 0
        hi = mentions[k + 1].start if k + 1 < len(mentions) else len(sentence)
        clause_lo = max([0, *(c for c in cuts if c <= m.start)])
        clause_hi = min([len(sentence), *(c for c in cuts if c >= m.end)])
        spans.append((max(lo, clause_lo), min(hi, clause_hi), clause_lo, clause_hi))
    return spans


def _status(words, segment, clause, at, lang: str, bounds, doc: dt.date) -> str:
    """A cue word in the date's clause (proposed, postponed, scheduled …), else the tense
    of the nearest event verb in its segment, else the date against the document's date."""
    cues = []
    tensed = []
    for k, w in enumerate(words):
        low = w.text.lower()
        cue = next((_STATUS_CUES[f] for f in w.forms if f in _STATUS_CUES), None)
        if cue and clause[0] <= w.start and w.end <= clause[1]:
            # a cue before the date governs it («предложил … до 2035 года»); one after it
            # only when there is none before (sorted by -distance below)
            gap = at[0] - w.end if w.end <= at[0] else -(w.start - at[1]) - 1
            cues.append((gap, cue))
        if not (segment[0] <= w.start and w.end <= segment[1]):
            continue
        if lang == "ru" and w.forms & _EVENT_VERBS:
            for parse in _morph_parse(low):
                if parse.tag.POS in ("VERB", "PRTF", "PRTS") and parse.normal_form in _EVENT_VERBS:
                    if parse.tag.tense in ("past", "futr"):
                        tensed.append(
                            (
                                _distance((w.start, w.end), at),
                                "held" if parse.tag.tense == "past" else "planned",
                            )
                        )
                    break
        elif lang == "en" and low in _EN_HELD:
            # "is to be adopted", "will be signed": a participle of what is yet to come
            ahead = " ".join(x.text.lower() for x in words[max(0, k - 2) : k])
            coming = ahead.endswith(("to be", "will be", "would be", "be"))
            tensed.append((_distance((w.start, w.end), at), "planned" if coming else "held"))
    if strong := [c for c in cues if c[1] in ("postponed", "cancelled")]:
        return min(strong)[1]  # "planned for mid-2025, was postponed": the plan changed
    if before := [c for c in cues if c[0] >= 0]:
        return min(before)[1]
    if tensed:  # "met in Astana on Thursday to prepare the meeting expected …"
        return min(tensed)[1]
    if cues:
        return max(cues)[1]
    # No word says it: the date against the document's own date decides.
    if bounds.end is not None and bounds.end < doc:
        return "held"
    if bounds.start is not None and bounds.start > doc:
        return "planned"
    if bounds.start is not None and (bounds.end is None or bounds.precision == "day"):
        return "held"  # begun by the document's date ("in force from 2025", today's event)
    return "planned"


@functools.lru_cache(maxsize=65536)
def _morph_parse(word: str) -> list[Parse]:
    return morph().parse(word)


def _place(names: list[Found], sentence: str, ranges, at: tuple[int, int], others):
    """The city or country the event is in: a name after «в»/"in", nearest the date, in
    its segment, else in its clause before it; a name right beside another date
    («в 2026 году в Ашхабаде», "in Samarkand on 3–4 April") belongs to that date."""
    for lo, hi in ranges:
        found = _place_in(names, sentence, lo, hi, at, others)
        if found[0] is not None:
            return found
    return None, []


def _place_in(names, sentence, lo, hi, at, others):
    best = None
    inferred: list[str] = []
    for f in names:
        if not (lo <= f.start and f.end <= hi) or f.name.kind not in ("city", "country"):
            continue
        if any(0 <= f.start - o[1] <= 4 or 0 <= o[0] - f.end <= 4 for o in others if o != at):
            continue
        before = sentence[max(lo, f.start - 40) : f.start]
        capital = re.search(
            r"\b(?:в|во)\s+столиц[аеыу]\s+\Z|\bin\s+the\s+capital\s+of\s+\Z", before, re.IGNORECASE
        )
        city_of = re.search(
            r"\b(?:в|во)\s+(?P<adj>[а-яё]+)\s+город[еа]\s+\Z", before, re.IGNORECASE
        )
        if not (
            capital or city_of or re.search(r"\b(?:в|во|in|at|to)\s+\Z", before, re.IGNORECASE)
        ):
            continue
        name = f.name
        these: list[str] = []
        if capital and name.kind == "country" and name.code in CAPITALS:
            name = CITY_BY_EN[CAPITALS[name.code]]
            these = [CAPITAL_OF]
        d = _distance((f.start, f.end), at)
        if best is None or d < best[0]:
            best, inferred = (d, name), these
    if best is None:
        return None, []
    name = best[1]
    return PlaceProposal(name={"en": name.en, "ru": name.ru}, country=name.country), inferred


def _participants(names: list[Found], lo: int, hi: int) -> list[str]:
    out: list[str] = []
    for f in names:
        if not (lo <= f.start and f.end <= hi):
            continue
        codes = CENTRAL_ASIA if f.name.kind == "region" else (f.name.code,)
        for code in codes:
            if code and code not in out:
                out.append(code)
    return out


def _title(
    sentence: str,
    words: list[_Word],
    kind_at: tuple[int, int, str, int],
    place: PlaceProposal | None,
    lang: str,
) -> tuple[dict[str, str], list[str]]:
    """A title in the document's language from the text's words, and the other language's
    from the same parts (ordinal, format, kind, place), marked generated; a title whose
    words cannot be carried over (a treaty's subject) is given in one language only."""
    _start, end, kind, i = kind_at
    ordinal_en, number = "", ""
    first = i
    # up to two adjectives or ordinals before it (English: up to four, "first Central Asia")
    reach = 3 if lang == "ru" else 5
    for k in range(i - 1, max(-1, i - reach), -1):
        w = words[k]
        if m := re.fullmatch(r"(\d+)-[йяе]", w.text):
            number, first = m[1], k
            continue
        if lang == "ru" and not any(p.tag.POS == "ADJF" for p in _morph_parse(w.text.lower())):
            break
        if lang == "en" and (
            w.text.lower() in ("the", "a", "an")
            or (w.text.lower() not in _EN_ORDINALS and w.text[:1].islower())
        ):
            break
        first = k
        for form in w.forms:
            if form in _ORDINALS_RU:
                ordinal_en = _ORDINALS_RU[form][0]
            elif form in _EN_ORDINALS:
                ordinal_en = form.capitalize()
    tail = sentence[end:]
    fmt = re.match(r"\s*(?:в\s+формате\s+)?[«\"“]([^»\"”]{3,60})[»\"”]", tail)
    fmt = fmt or re.match(r"\s+в\s+формате\s+([А-ЯЁ][^,.;]{3,40}?\+\s*[А-ЯЁ][а-яё]+)", tail)
    fmt_text = fmt[1].strip() if fmt else ""
    subject = "" if fmt else _subject(tail)
    fmt_en = _format_en(fmt_text)
    if lang == "ru":
        last = max(k for k, w in enumerate(words) if w.end <= end)
        noun = words[last]  # «круглый стол», «дорожная карта»: the noun is the last word
        phrase = _nominative([w.text for w in words[first : last + 1]], noun.text)
        genitive = "" if fmt_text or subject else _genitive_tail(words, last)
        parts = [phrase[:1].upper() + phrase[1:]] + ([genitive] if genitive else [])
        parts += [f"«{fmt_text}»"] if fmt_text else []
        parts += [subject] if subject else []
        parts += [f"в {_locative(place.name['ru'])}"] if place else []
        title = {"ru": " ".join(parts)}
        if subject or (fmt_text and not fmt_en):
            return title, []
        kind_en = _KIND_EN[kind]
        if kind in ("document", "other"):  # say which: a strategy, a roadmap, an exhibition
            kind_en = next((_NOUN_EN[f] for f in noun.forms if f in _NOUN_EN), kind_en)
        bits = [number + _suffix(number) if number else ordinal_en, fmt_en, kind_en]
        en = " ".join(b for b in bits if b) + (f" in {place.name['en']}" if place else "")
        title["en"] = en[:1].upper() + en[1:]
        return title, ["title.en"]
    head = sentence[words[first].start : end]
    en = head + (f" {subject}" if subject else "") + (f" in {place.name['en']}" if place else "")
    title = {"en": en[:1].upper() + en[1:]}
    if subject or fmt_text or ordinal_en or number:
        return title, []
    title["ru"] = _KIND_RU[kind] + (f" в {_locative(place.name['ru'])}" if place else "")
    return title, ["title.ru"]


_EN_ORDINALS = frozenset(
    [
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "next",
    ]
)


_NOUN_EN = {
    "стратегия": "strategy",
    "декларация": "declaration",
    "карта": "roadmap",
    "концепция": "concept",
    "выставка": "exhibition",
    "ярмарка": "fair",
    "фестиваль": "festival",
}


def _genitive_tail(words: list[_Word], last: int) -> str:
    """The genitive words after the kind noun: «встреча глав государств Центральной Азии»,
    «конференция министров иностранных дел» (up to four, as the text has them)."""
    tail = []
    for w in words[last + 1 : last + 5]:
        parses = _morph_parse(w.text.lower())
        if not parses or parses[0].tag.case != "gent" or parses[0].tag.POS not in ("NOUN", "ADJF"):
            break
        tail.append(w.text)
    return " ".join(tail)


def _subject(tail: str) -> str:
    """What a treaty or programme is about: «о государственной границе между …»."""
    m = re.match(r"\s+((?:о|об|по|on|of)\s+[^,.;:«»()]{3,80})", tail)
    if not m:
        return ""
    # up to a date or a format's name, which the title gives apart
    subject = re.split(r"\s(?:в|к|до|in|by)\s+\d|\sв\s+формате\s", m[1])[0]
    return " ".join(subject.split()[:8])


def _suffix(number: str) -> str:
    n = int(number)
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _format_en(text: str) -> str:
    """«Центральная Азия + Италия» -> "Central Asia + Italy" when every part is a known name."""
    if not text:
        return ""
    parts = re.split(r"\s*([+–—-])\s*", text.strip())
    out = []
    for k, part in enumerate(parts):
        if k % 2:
            out.append({"+": " + "}.get(part, "–"))
            continue
        found = find_names(part)
        if len(found) != 1 or (found[0].start, found[0].end) != (0, len(part)):
            return ""  # «Транзит Центральной Азии»: a name inside, not the whole part
        out.append(found[0].name.en)
    return "".join(out)


def _nominative(tokens: list[str], head: str) -> str:
    """A Russian noun phrase in the nominative singular, adjectives agreeing with `head`."""
    nouns = [p for p in _morph_parse(head.lower()) if p.tag.POS == "NOUN"]
    gender = nouns[0].tag.gender if nouns else None
    out = []
    for token in tokens:
        parses = [p for p in _morph_parse(token.lower()) if p.tag.POS in ("NOUN", "ADJF")]
        wanted = {"nomn", "sing"} | (
            {gender} if gender and parses and parses[0].tag.POS == "ADJF" else set()
        )
        inflected = parses[0].inflect(wanted) if parses else None
        word = inflected.word if inflected else token
        out.append(word if not token[:1].isupper() else word[:1].upper() + word[1:])
    return " ".join(out)


def _locative(name: str) -> str:
    out = []
    for token in name.split():
        parses = [
            p for p in morph().parse(token) if "Geox" in p.tag or p.tag.POS in ("NOUN", "ADJF")
        ]
        inflected = parses[0].inflect({"loct"}) if parses else None
        word = inflected.word if inflected else token
        out.append("-".join(part[:1].upper() + part[1:] for part in word.split("-")))
    return " ".join(out)


def extract(text: str, *, lang: str, document_date: dt.date) -> Document:
    """Propose every dated fact the document states (dates completed from `document_date`)."""
    if lang not in ("ru", "en"):
        raise ValueError(f"lang must be 'ru' or 'en', not {lang!r}")
    paragraphs = split_paragraphs(text)
    proposals: list[Proposal] = []
    seen: set[tuple[str, str, str | None]] = set()
    report_date = None
    for paragraph in paragraphs[:4]:
        if found := dateline(paragraph, document_date=document_date):
            report_date = (lemmas(found[0]), found[1])
            break
    # the document's title or lead names the parties when a sentence names fewer than two
    doc_names = find_names(paragraphs[0]) if paragraphs else []
    for number, paragraph in enumerate(paragraphs, start=1):
        for sent in razdel.sentenize(paragraph):
            sentence: str = sent.text  # razdel's Substring (razdel ships no types)
            mentions = find_dates(sentence, lang=lang, document_date=document_date)
            if not mentions and not (report_date and _HAPPENED.search(sentence)):
                continue  # nothing can date it: spare the lemmatiser (most of the time)
            words = _words(sentence)
            kinds = _kind_words(words)
            if not kinds:
                continue
            names = find_names(sentence)
            items: list[tuple[DateMention, tuple[int, int, int, int]]]
            if mentions:
                items = list(zip(mentions, _segments(sentence, mentions), strict=True))
            elif report_date:
                items = _dated_by_dateline(sentence, names, report_date, lang, words)
            else:
                items = []
            # the date each kind word is given, with its distance and segment ranges
            chosen: dict[
                tuple[int, int, str, int], tuple[int, DateMention, tuple[int, int, int, int]]
            ] = {}
            for mention, ranges in items:
                at = (mention.start, mention.end)
                if _is_statistic(words, sentence, ranges[0], ranges[1]):
                    continue
                kind_at = _kind_for(kinds, ranges[0], ranges[1], at)
                gap = _distance(kind_at[:2], at)
                if kind_at not in chosen or gap < chosen[kind_at][0]:
                    # one event word, two dates («в прошлом месяце предложил провести
                    # конференцию в первой половине следующего года»): the nearer dates it
                    chosen[kind_at] = (gap, mention, ranges)
            for kind_at, (_gap, mention, (lo, hi, clause_lo, clause_hi)) in sorted(
                chosen.items(), key=lambda c: c[1][1].start
            ):
                at = (mention.start, mention.end)
                bounds = parse_edtf(mention.edtf)
                place, place_inferred = (None, [])
                if kind_at[2] not in _PLACELESS:
                    others = [(m.start, m.end) for m, _ in items]
                    searched = [(lo, hi), (clause_lo, at[0])]
                    place, place_inferred = _place(names, sentence, searched, at, others)
                participants = _participants(names, lo, hi)
                if len(participants) < 2:
                    participants += [
                        p for p in _participants(doc_names, 0, 10**9) if p not in participants
                    ]
                key = (kind_at[2], mention.edtf, place.name["en"] if place else None)
                if key in seen:
                    continue
                seen.add(key)
                title, generated = _title(sentence, words, kind_at, place, lang)
                quote = sentence  # razdel's sentence is an exact slice of the paragraph
                proposals.append(
                    Proposal(
                        title=title,
                        summary={lang: quote},
                        kind=kind_at[2],
                        status=_status(
                            words, (lo, hi), (clause_lo, clause_hi), at, lang, bounds, document_date
                        ),
                        date=DateProposal(mention.edtf),
                        bounds={
                            "start": bounds.start.isoformat() if bounds.start else None,
                            "end": bounds.end.isoformat() if bounds.end else None,
                            "precision": bounds.precision,
                        },
                        label=dict(bounds.label),
                        evidence=Evidence(number, quote),
                        place=place,
                        participants=participants,
                        inferred=[*mention.inferred, *place_inferred],
                        generated=generated,
                    )
                )
    return Document(paragraphs=paragraphs, proposals=proposals)


_HAPPENED = re.compile(
    r"\b(?:состоял[аось]+|прош[её]л|прошла|проходит|открыл[аось]+|was\s+held|took\s+place)\b",
    re.IGNORECASE,
)


def _dated_by_dateline(sentence, names, report_date, lang, words):
    """An undated sentence saying an event took place in the dateline's city is dated by
    the dateline (flagged): «…встреча состоялась в Ташкенте» under «ТАШКЕНТ, 16 ноября»."""
    if report_date is None:
        return []
    place_forms, mention = report_date
    in_place = any(f.name.kind == "city" and lemmas(f.name.ru) & place_forms for f in names) or any(
        w.forms & place_forms for w in words
    )
    happened = _HAPPENED.search(sentence)
    if not (in_place and happened):
        return []
    at = happened.start()
    whole = (0, len(sentence), 0, len(sentence))
    return [(msgspec.structs.replace(mention, start=at, end=happened.end()), whole)]
