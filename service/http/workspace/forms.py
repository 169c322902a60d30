"""A fact's fields as the workspace's named form inputs, and back (pure: no HTTP)."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from events.documents import ProposedFact
from events.facts import (
    LANGUAGES,
    Fact,
)

# --- what the forms hold: a fact's fields as named inputs -----------------------------


def _words(value: str | None) -> list[str]:
    return [w for w in re.split(r"[\s,]+", value or "") if w]


def form_text(form: dict[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def fact_fields(form: dict[str, Any]) -> dict[str, Any]:
    """A fact's fields from the form, as the fact's JSON has them (every language given,
    empty or not, so that emptying a required text is refused, not ignored)."""
    place_name = {lang: form_text(form, f"place.name.{lang}") for lang in LANGUAGES}
    country = form_text(form, "place.country").upper()
    place = None
    if any(place_name.values()) or country:
        place = {
            "name": {lang: text for lang, text in place_name.items() if text},
            "country": country or None,
        }
    return {
        "title": {lang: form_text(form, f"title.{lang}") for lang in LANGUAGES},
        "summary": {lang: form_text(form, f"summary.{lang}") for lang in LANGUAGES},
        "kind": form_text(form, "kind"),
        "status": form_text(form, "status"),
        "date": {"edtf": form_text(form, "date.edtf")},
        "place": place,
        "participants": [w.upper() for w in _words(form.get("participants"))],
        "tags": _words(form.get("tags")),
    }


def form_values(fact: Fact | ProposedFact | dict[str, Any] | None) -> dict[str, str]:
    """A fact's (or proposal's) fields as the form's input values."""
    if fact is None:
        return {}
    data = msgspec.to_builtins(fact) if not isinstance(fact, dict) else fact
    values: dict[str, str] = {
        "id": data.get("id") or "",
        "kind": data.get("kind") or "",
        "status": data.get("status") or "",
        "date.edtf": (data.get("date") or {}).get("edtf", ""),
        "participants": ", ".join(data.get("participants") or []),
        "tags": ", ".join(data.get("tags") or []),
    }
    place = data.get("place") or {}
    for lang in LANGUAGES:
        values[f"title.{lang}"] = (data.get("title") or {}).get(lang, "")
        values[f"summary.{lang}"] = (data.get("summary") or {}).get(lang, "")
        values[f"place.name.{lang}"] = (place.get("name") or {}).get(lang, "")
    values["place.country"] = place.get("country") or ""
    return values


def _comparable(fields: dict[str, Any]) -> dict[str, Any]:
    """Fields in one shape for comparing what the form holds with what is stored."""
    place = fields.get("place")
    if place is not None:
        place = {"name": place.get("name") or {}, "country": place.get("country")}
    return {
        **fields,
        "title": {k: v for k, v in (fields.get("title") or {}).items() if v},
        "summary": {k: v for k, v in (fields.get("summary") or {}).items() if v},
        "kind": fields.get("kind") or "",
        "status": fields.get("status") or "",
        "date": {"edtf": (fields.get("date") or {}).get("edtf", "")},
        "place": place,
        "participants": fields.get("participants") or [],
        "tags": fields.get("tags") or [],
    }


def changed_fields(before: Fact | ProposedFact, form_fields: dict[str, Any]) -> dict[str, Any]:
    """The fields the form changes against `before` (what the editor read); of a language
    map, only the languages it changes (a change sets only the languages it names)."""
    old = _comparable(msgspec.to_builtins(before))
    new = _comparable(form_fields)
    out: dict[str, Any] = {}
    for name, value in form_fields.items():
        if name in ("title", "summary"):
            langs = {k: v for k, v in value.items() if v != old[name].get(k, "")}
            if langs:
                out[name] = langs
        elif new[name] != old.get(name):
            out[name] = value
    return out


def laid_over(fact: Fact, changes: dict[str, Any]) -> dict[str, Any]:
    """The fact's fields with `changes` (from changed_fields) laid over them."""
    merged = msgspec.to_builtins(fact)
    for name, value in changes.items():
        merged[name] = {**merged[name], **value} if name in ("title", "summary") else value
    return merged


def form_version(form: dict[str, Any]) -> int | None:
    value = form_text(form, "version")
    return int(value) if value.isdigit() and len(value) <= 9 else None
