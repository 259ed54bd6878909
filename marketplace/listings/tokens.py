"""Search tokens for Chinese and English text: pure functions, the same on both sides of a search.

A listing's searchable text (title, description and its category path's names) and a query are reduced to tokens
the same way (docs/architecture.md, "Search"):

1. **Normalise**: Unicode NFKC (full-width letters and digits become ASCII), traditional Chinese to simplified
   (OpenCC ``t2s``: 遊戲電腦 → 游戏电脑, 茶壺 → 茶壶), then case folding.
2. **Split** into runs of Han characters and words of other letters or digits; punctuation and spaces separate.
3. **Han runs are segmented** with jieba (``rjieba``): for indexing in search mode (a long word and its dictionary
   sub-words: 电脑主机 → 电脑, 主机, 电脑主机), for a query into the fewest words whose sub-words tile them
   (电脑主机 → 电脑 + 主机), so "青花花瓶" finds "清代青花花瓶一只" without spaces.
4. **Latin words are stemmed** (Snowball English): skillets → skillet, headphones → headphon; other words stay.

The index text is the listing's distinct tokens joined by single spaces (``Listing.search_text``); a query
matches when every one of its tokens is among them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache

import opencc
import rjieba
import snowballstemmer

MAX_QUERY_CHARS = 200
MAX_QUERY_TOKENS = 16

_T2S = opencc.OpenCC("t2s")
_STEMMER = snowballstemmer.stemmer("english")
# CJK Unified Ideographs (with extension A, compatibility ideographs and the supplementary planes) and 〇.
_HAN_RUN = re.compile("([\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+)")
_WORD = re.compile(r"[^\W_]+")
_LATIN = re.compile(r"[a-z]+")
# Words of the marketplace that jieba's dictionary splits into single characters (徕 + 卡).
EXTRA_WORDS = ("徕卡", "莱卡", "哈苏", "禄来", "宾得", "紫砂壶", "游戏本", "机械键盘", "黑胶", "盲盒", "手办")
for _word in EXTRA_WORDS:
    rjieba.add_word(_word, None, None)


def normalise(text: str) -> str:
    """NFKC, traditional → simplified Chinese, case-folded: the form both the index and a query are cut from."""
    return str(_T2S.convert(unicodedata.normalize("NFKC", text))).casefold()


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word)) if _LATIN.fullmatch(word) else word


def _tiling(word: str, pieces: list[str]) -> list[str] | None:
    """The fewest ``pieces`` (proper sub-words of ``word``) that spell ``word`` end to end, or None."""
    subwords = {p for p in pieces if p != word}
    best: dict[int, list[str]] = {0: []}
    for start in range(len(word)):
        if start not in best:
            continue
        for sub in subwords:
            if word.startswith(sub, start):
                end = start + len(sub)
                if end not in best or len(best[end]) > len(best[start]) + 1:
                    best[end] = [*best[start], sub]
    return best.get(len(word))


def _han_words(run: str, *, for_index: bool) -> Iterator[str]:
    if for_index:
        yield from rjieba.cut_for_search(run)
        return
    for word in rjieba.cut(run):
        tiles = _tiling(word, rjieba.cut_for_search(word)) if len(word) > 2 else None
        yield from tiles or [word]


def _tokens(text: str, *, for_index: bool) -> Iterator[str]:
    for i, part in enumerate(_HAN_RUN.split(normalise(text))):
        if i % 2:  # a Han run (the capturing group)
            yield from (w for w in _han_words(part, for_index=for_index) if w.strip())
        else:
            yield from (_stem(w) for w in _WORD.findall(part))


def _distinct(tokens: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(tokens))


def index_tokens(*texts: str) -> list[str]:
    """The distinct tokens of a listing's texts (title, description, category names), in first-seen order."""
    return _distinct(t for text in texts for t in _tokens(text, for_index=True))


def index_text(title: str, description: str, category_names: Iterable[str] = ()) -> str:
    """``Listing.search_text``: the distinct tokens of the title, description and category path, space-separated."""
    return " ".join(index_tokens(title, description, *category_names))


def query_tokens(q: str | None) -> list[str]:
    """A query's distinct tokens (at most :data:`MAX_QUERY_TOKENS`); every one must match."""
    if not q:
        return []
    return _distinct(_tokens(q[:MAX_QUERY_CHARS], for_index=False))[:MAX_QUERY_TOKENS]


def category_paths(rows: Iterable[tuple[int, int | None, str]]) -> dict[int, list[str]]:
    """Category id → the names from its root down to it, from ``(id, parent_id, name)`` rows."""
    rows = list(rows)
    parent = {cid: pid for cid, pid, _ in rows}
    name = {cid: n for cid, _, n in rows}
    paths: dict[int, list[str]] = {}
    for cid in parent:
        path: list[str] = []
        current: int | None = cid
        while current is not None and current in parent and len(path) < 64:
            path.append(name[current])
            current = parent[current]
        paths[cid] = list(reversed(path))
    return paths
