"""A trigram index of the exercises' search text, for `q`: the slugs whose text may hold a
substring, found from the postings of its rarest trigrams rather than by reading every text.

A text holding a substring holds every trigram of it, so the exercises posted under all of a
query's trigrams are a superset of its matches; the caller checks each
candidate against its own snapshot. That check is what lets one index serve every snapshot: it
only grows (an edit posts the changed entry under its new trigrams and takes nothing out), so it
holds a superset of the candidates of any snapshot, old or new. A posting is an array of the
differences between successive exercise numbers, 2 bytes each while every difference fits (the
numbers mostly grow, so nearly always), else 4: about 0.4 KB an exercise.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Iterable, Iterator
from itertools import accumulate

GRAM = 3
POSTED_PER_BATCH = 500
INDEXED_POSTINGS = 4096
"""A trigram posted for more exercises than this is too common to narrow a search: matching
such a query by reading the texts in slug order finds a page sooner."""


def trigrams(text: str) -> set[str]:
    return {text[start : start + GRAM] for start in range(len(text) - GRAM + 1)}


class TextIndex:
    """Grows only. Written by the snapshot's refresh and by the one thread that posts a whole
    snapshot (`post_all`), under a lock; read by any number of requests without one."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._slugs: list[str] = []
        self._postings: dict[str, array[int]] = {}
        self._last: dict[str, int] = {}
        """The last number posted under each trigram (what the next difference is from)."""
        self._lock = threading.Lock()
        self.started = False
        self.complete = False
        """Every entry of the snapshot it was made for is posted: until then it narrows
        nothing."""

    def post_all(self, texts: Iterable[tuple[str, str]]) -> None:
        """Post every (slug, text), in batches that let other threads run between them; once."""
        with self._lock:
            if self.started:
                return
            self.started = True
        batch: list[tuple[str, str]] = []
        for pair in texts:
            batch.append(pair)
            if len(batch) == POSTED_PER_BATCH:
                self._post_batch(batch)
                batch = []
        self._post_batch(batch)
        self.complete = True

    def _post_batch(self, batch: list[tuple[str, str]]) -> None:
        with self._lock:
            for slug, text in batch:
                self._post(slug, text, ())
        time.sleep(0)  # let requests have the interpreter between batches

    def post(self, slug: str, text: str, already: Iterable[str] = ()) -> None:
        """Post `slug` under its text's trigrams, less those it is already posted under."""
        with self._lock:
            self._post(slug, text, already)

    def _post(self, slug: str, text: str, already: Iterable[str]) -> None:
        number = self._numbers.get(slug)
        if number is None:
            number = self._numbers[slug] = len(self._slugs)
            self._slugs.append(slug)
        postings, last = self._postings, self._last
        for gram in trigrams(text).difference(already):
            posting = postings.get(gram)
            difference = number - last.get(gram, 0)
            if posting is None:
                posting = postings[gram] = array("H" if 0 <= difference < NARROW else "i")
            elif posting.typecode == "H" and not 0 <= difference < NARROW:
                posting = postings[gram] = array("i", posting)
            posting.append(difference)
            last[gram] = number

    def candidates(self, fragment: str) -> set[str] | None:
        """Slugs that may hold `fragment` (casefolded), or None when the index cannot narrow it
        (shorter than a trigram, or made only of common trigrams)."""
        grams = trigrams(fragment)
        if not grams or not self.complete:
            return None
        postings = sorted((self._postings.get(gram, EMPTY) for gram in grams), key=len)
        if len(postings[0]) > INDEXED_POSTINGS:
            return None
        numbers = set(numbers_of(postings[0]))
        for posting in postings[1:3]:
            if not numbers or len(posting) > 4 * INDEXED_POSTINGS:
                break
            numbers.intersection_update(numbers_of(posting))
        slugs = self._slugs
        return {slugs[number] for number in numbers}


def numbers_of(posting: array[int]) -> Iterator[int]:
    """The exercise numbers a posting holds (the running sum of its differences)."""
    return accumulate(posting)


NARROW = 1 << 16
"""Differences below this take 2 bytes; a posting holding any other takes 4 a difference."""
EMPTY: array[int] = array("H")
