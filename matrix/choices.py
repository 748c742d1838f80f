"""Choice values as people write them: every word the UI shows for a value, in both languages, and its stored code.

A sheet column such as 状态 holds whatever the person saw on a screen (启用, Active), the stored code
(active) or a word of their own (运营中). One Choices per column maps all of them to the value, tolerant
of spaces, case, full-width characters and a bracketed explanation ("GCJ-02 (AMap, Tencent)").
"""
import re
import unicodedata
from collections.abc import Iterable, Mapping

from flask_babel import force_locale

# The languages whose labels a sheet may hold: the UI's two.
LANGUAGES = ("zh", "en")
_NOISE = re.compile(r"[\s_\-·.。:：]+")
_BRACKETED = re.compile(r"[(\[{<（【][^)\]}>）】]*[)\]}>）】]")


def normalise_choice(text) -> str:
    """" 启 用 " -> 启用, "ＡＣＴＩＶＥ" -> active, "Closed_Temporarily" -> closedtemporarily."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", str(text if text is not None else "")).casefold())


def _without_brackets(text: str) -> str:
    return normalise_choice(_BRACKETED.sub("", unicodedata.normalize("NFKC", str(text))))


class Choices:
    """The values of one choice column and every word that names each of them.

    `codes` maps a stored code to its value; `labels` a code to the (lazy) label the UI shows, or a tuple of
    them; `aliases` more words to values. Labels are read in every language the first time a word is looked up.
    """

    def __init__(self, codes: Mapping[str, object], *, labels: Mapping[str, object] | None = None,
                 aliases: Mapping[str, object] | None = None, strict: bool = True):
        self.codes = dict(codes)
        self.labels = {code: label if isinstance(label, tuple) else (label,) for code, label in (labels or {}).items()}
        self.aliases = dict(aliases or {})
        self.strict = strict  # False for data HQ types (platform names): the first value keeps a shared word
        self._words: dict[str, object] | None = None

    def words(self) -> dict[str, object]:
        """Normalised word -> value; a word naming two values is a mistake in the lists, raised at once."""
        if self._words is None:
            words: dict[str, object] = {}
            for word, value in self._all_words():
                key = normalise_choice(word)
                if key and words.setdefault(key, value) != value and self.strict:
                    raise ValueError(f"“{word}” names both {words[key]!r} and {value!r}")
            for word, value in self._all_words():
                # "GCJ-02 (AMap, Tencent)" is also read without its bracket, unless that names another value.
                words.setdefault(_without_brackets(word), value)
            words.pop("", None)
            self._words = words
        return self._words

    def _all_words(self) -> Iterable[tuple[str, object]]:
        for code, value in self.codes.items():
            yield code, value
        for code, labels in self.labels.items():
            for language in LANGUAGES:
                with force_locale(language):
                    texts = [str(label) for label in labels]
                yield from ((text, self.codes[code]) for text in texts)
        yield from self.aliases.items()

    def find(self, text):
        """The value `text` names, or None."""
        words = self.words()
        key = normalise_choice(text)
        if key in words:
            return words[key]
        return words.get(_without_brackets(text)) if key else None

    def shown(self, language: str) -> list[str]:
        """The labels in `language` (or the codes, without labels): what an error message offers."""
        if not self.labels:
            return list(self.codes)
        with force_locale(language):
            return [str(labels[0]) for labels in self.labels.values()]
