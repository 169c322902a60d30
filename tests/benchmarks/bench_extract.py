"""Benchmark: date expressions found by seeds.extraction, dateparser and natasha.

CORPUS    tests/data/documents: the two seed source documents and the test documents, each
          with its gold list of date expressions in EDTF (the .yaml beside it); held-out/
          holds documents written after the extractor was, never used to tune it.
OURS      `seeds.extraction.dates.find_dates` per paragraph (and, timed apart, the whole
          `extract`).
DATEPARSER `dateparser.search_dates` with the document's language and date as the
          relative base; each datetime it returns is taken as a day (it has no other
          precision).
NATASHA   `natasha.DatesExtractor` (Russian only); its partial dates become day, month or
          year EDTF, a missing year taken from the document's date.

A found EDTF counts when it equals one gold EDTF of the same document not yet matched
(multiset); recall = matched / gold, precision = matched / found. Speed is documents per
second over the corpus, the median of ROUNDS.
Goals: our recall >= 95%, precision >= 90%, faster than dateparser.

FACTS     the whole `extract` on the documents whose gold lists their facts (date and
          kind): a proposal counts when both equal a gold fact's not yet matched.
          Goals: fact recall >= 90%, precision >= 85%.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import yaml

from events.documents import paragraphs as split_paragraphs
from seeds.extraction import extract
from seeds.extraction.dates import find_dates

CORPUS = Path(__file__).parent.parent / "data" / "documents"
ROUNDS = 3
GOAL_RECALL, GOAL_PRECISION = 0.95, 0.90
GOAL_FACT_RECALL, GOAL_FACT_PRECISION = 0.90, 0.85


def _corpus() -> list[tuple[str, str, dt.date, list[str]]]:
    docs = []
    for text_path in sorted(CORPUS.rglob("*.txt")):
        gold = yaml.safe_load(text_path.with_suffix(".yaml").read_text(encoding="utf-8"))
        text = text_path.read_text(encoding="utf-8")
        docs.append((text, gold["lang"], gold["date"], list(gold["dates"])))
    return docs


def ours(text: str, lang: str, doc: dt.date) -> list[str]:
    return [
        m.edtf
        for paragraph in split_paragraphs(text)
        for m in find_dates(paragraph, lang=lang, document_date=doc)
    ]


def _dateparser() -> Callable[[str, str, dt.date], list[str]]:
    from dateparser.search import search_dates

    def run(text: str, lang: str, doc: dt.date) -> list[str]:
        base = dt.datetime(doc.year, doc.month, doc.day)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = search_dates(text, languages=[lang], settings={"RELATIVE_BASE": base})
        return [when.date().isoformat() for _, when in found or []]

    return run


def _natasha() -> Callable[[str, str, dt.date], list[str]]:
    from natasha import DatesExtractor, MorphVocab

    extractor = DatesExtractor(MorphVocab())

    def run(text: str, lang: str, doc: dt.date) -> list[str]:
        if lang != "ru":
            return []
        out = []
        for match in extractor(text):
            fact = match.fact
            year = fact.year or doc.year
            if fact.month and fact.day:
                out.append(f"{year:04d}-{fact.month:02d}-{fact.day:02d}")
            elif fact.month:
                out.append(f"{year:04d}-{fact.month:02d}")
            elif fact.year:
                out.append(f"{year:04d}")
        return out

    return run


def _score(run, docs) -> tuple[float, float, int, int, int]:
    matched = found = gold_total = 0
    for text, lang, doc, gold in docs:
        got = run(text, lang, doc)
        found += len(got)
        gold_total += len(gold)
        matched += sum((Counter(got) & Counter(gold)).values())
    return (
        matched / gold_total if gold_total else 0.0,
        matched / found if found else 0.0,
        matched,
        found,
        gold_total,
    )


def _rate(run, docs, before_round=lambda: None) -> float:
    times = []
    for _ in range(ROUNDS):
        before_round()
        started = time.perf_counter()
        for text, lang, doc, _gold in docs:
            run(text, lang, doc)
        times.append(time.perf_counter() - started)
    return len(docs) / statistics.median(times)


def _cold_lemmas() -> None:
    """Each round of extract() starts with empty lemma caches, as a new document's words would."""
    from seeds.extraction import names, proposals

    names.lemmas.cache_clear()
    proposals._morph_parse.cache_clear()


def _fact_scores() -> tuple[float, float, int, int, int]:
    """Facts (date and kind) proposed by `extract`, against the gold facts of the corpus."""
    matched = found = gold_total = 0
    for text_path in sorted(CORPUS.rglob("*.txt")):
        gold = yaml.safe_load(text_path.with_suffix(".yaml").read_text(encoding="utf-8"))
        if "facts" not in gold:
            continue
        text = text_path.read_text(encoding="utf-8")
        expected = Counter((f["edtf"], f["kind"]) for f in gold["facts"])
        got = Counter(
            (p.date.edtf, p.kind)
            for p in extract(text, lang=gold["lang"], document_date=gold["date"]).proposals
        )
        matched += sum((expected & got).values())
        found += sum(got.values())
        gold_total += sum(expected.values())
    recall = matched / gold_total if gold_total else 0.0
    return recall, matched / found if found else 0.0, matched, found, gold_total


def main() -> None:
    docs = _corpus()
    tools = [("seeds.extraction", ours), ("dateparser", _dateparser()), ("natasha", _natasha())]
    print(f"corpus: {len(docs)} documents, {sum(len(d[3]) for d in docs)} gold date expressions")
    print(f"{'tool':<18}{'recall':>8}{'precision':>11}{'matched':>9}{'found':>7}{'docs/s':>10}")
    rates = {}
    for name, run in tools:
        run(*docs[0][:3])  # warm up: dictionaries, compiled patterns
        recall, precision, matched, found, _ = _score(run, docs)
        rates[name] = _rate(run, docs)
        print(
            f"{name:<18}{recall:>8.1%}{precision:>11.1%}{matched:>9}{found:>7}{rates[name]:>10.1f}"
        )
        if name == "seeds.extraction":
            ok = recall >= GOAL_RECALL and precision >= GOAL_PRECISION
            print(
                f"  goal recall >= {GOAL_RECALL:.0%}, precision >= {GOAL_PRECISION:.0%}: "
                f"{'met' if ok else 'NOT met'}"
            )
    recall, precision, matched, found, total = _fact_scores()
    ok = recall >= GOAL_FACT_RECALL and precision >= GOAL_FACT_PRECISION
    print(
        f"facts (date and kind) by extract(): recall {recall:.1%} ({matched}/{total}), "
        f"precision {precision:.1%} ({matched}/{found}); goal recall >= "
        f"{GOAL_FACT_RECALL:.0%}, precision >= {GOAL_FACT_PRECISION:.0%}: "
        f"{'met' if ok else 'NOT met'}"
    )
    whole = _rate(lambda t, lang, d: extract(t, lang=lang, document_date=d), docs, _cold_lemmas)
    print(f"whole extract() (dates, kinds, places, titles; lemma caches cold): {whole:.1f} docs/s")
    faster = rates["seeds.extraction"] / rates["dateparser"]
    print(f"date grammar vs dateparser: {faster:.1f}x ({'met' if faster > 1 else 'NOT met'})")


if __name__ == "__main__":
    main()
