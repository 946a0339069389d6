"""Words that carry meaning: the one tokenizer retrieval and the offline model agree on.

`terms()` lowercases, splits on Unicode word characters, drops English stopwords and applies a tiny
suffix stemmer so that "installing", "installs" and "installed" meet "install". It must stay
deterministic and cheap: it runs on every chunk at ingest and on every question.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves i'm it's don't doesn't can't
    there's what's let's""".split()
)
_SUFFIXES = ("ingly", "ing", "edly", "ed", "ies", "ses", "xes", "ches", "shes", "s", "ly")


def stem(word: str) -> str:
    """A deliberately small stemmer: strip one common suffix when enough of the word remains,
    then a final "e" ("configure", "configured" and "configuring" all become "configur")."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            if suffix.endswith("es") and suffix != "ies":
                word += suffix[:-2]  # "classes" -> "class", "boxes" -> "box"
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def terms(text: str) -> list[str]:
    """The stemmed, lowercased, non-stopword words of `text`, in order."""
    return [
        stem(word)
        for word in _WORD.findall(text.lower())
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit())
    ]
