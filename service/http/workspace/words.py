"""The workspace's own words: it speaks English; the facts' texts are in both languages."""

from __future__ import annotations

from projections.vocabulary import words

LANG = "en"  # the workspace's own words are English; the facts' texts are in both languages
STATUS_WORDS = words(LANG).statuses
NOTICES = {
    "signed-in": "You are signed in.",
    "signed-out": "You are signed out.",
    "received": "The document was read; its proposals are below.",
    "accepted": "The proposal was accepted.",
    "rejected": "The proposal was rejected.",
    "created": "The fact was recorded.",
    "changed": "The fact was changed.",
    "retracted": "The fact was retracted.",
    "unchanged": "Nothing differed from the stored fact: nothing was recorded.",
}
