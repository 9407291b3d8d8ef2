"""Which documents a payment's memo names: whole references, never a part of one.

A reference is runs of letters and digits joined by ``/``, ``-``, ``_`` or ``.``
(``INV/2026/00012``, ``S00042``, ``PO-77``); anything else (spaces, commas, a full stop
that ends the memo) separates references. A reference is named by a memo only when it
appears there whole: ``1234`` is not named by ``INV/2026/01234``, ``S10000`` not by
``S100000``, ``INV/2026/00012`` not by ``INV/2026/00012-1``. Case does not count.
"""

import re
from collections import defaultdict

_WORD = re.compile(r"[^\W_]+(?:[/\-_.][^\W_]+)*")


def tokens(text):
    """The words of ``text`` that a reference is made of, case folded, in their order."""
    return tuple(_WORD.findall(text.casefold())) if text else ()


class ReferenceIndex:
    """The references of documents, to find which of them a memo names.

    A reference of several words (a customer reference "PO 77") is named when the memo
    has the same words one after the other.
    """

    def __init__(self):
        self._by_first_word = defaultdict(list)

    def add(self, key, reference):
        words = tokens(reference)
        if words:
            self._by_first_word[words[0]].append((words, key))

    def named(self, memo):
        """The keys of the documents whose reference ``memo`` names."""
        words = tokens(memo)
        found = set()
        for position, word in enumerate(words):
            for reference, key in self._by_first_word.get(word, ()):
                if words[position : position + len(reference)] == reference:
                    found.add(key)
        return found
