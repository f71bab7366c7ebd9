"""Token ids for questions without loading the `tokenizers` Unigram model: it saves a cold `tipqa ask` ~0.7 s.

Building `tokenizers`' Unigram from e5's 250,002 pieces takes ~0.66 s (plus ~0.4 s to read its JSON), about half
the cold-ask budget, for a question of a dozen tokens. This reads the same pieces and scores from two plain files
(~50 ms) and runs the same Viterbi (the best-scoring split; unknown characters cost the lowest score minus 10,
as SentencePiece and `tokenizers` do) after the same normalisation as e5.py's tokenizer. It gives ids only (no
offsets); builds, which need offsets for sentence vectors, use `tokenizers`. tests/test_e5.py checks that both
give the same ids on every sentence of the nine reports.
"""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import numpy as np

PIECES = "unigram_pieces.txt"  # one piece per line, in id order (no piece contains a newline)
SCORES = "unigram_scores.npy"  # float32 score per piece
SPECIAL = "unigram_special.json"  # {"bos": id, "eos": id, "unk": id}
META = "\u2581"
_DROP = re.compile("[\u0001-\u0008\u000b\u000e-\u001f\u007f\u008f\u009f]")
_SPACE = re.compile("[\t\n\f\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]")
_SPACES = re.compile(" {2,}")


def write(folder: Path, pieces: list[str], scores: list[float], special: dict[str, int]) -> None:
    (folder / PIECES).write_text("\n".join(pieces), encoding="utf-8")
    np.save(folder / SCORES, np.asarray(scores, dtype=np.float32), allow_pickle=False)
    (folder / SPECIAL).write_text(json.dumps(special))


def available(folder: Path) -> bool:
    """True when the folder has the files of a fast question tokenizer (e5; MiniLM's WordPiece loads fast enough)."""
    return all((folder / name).is_file() for name in (PIECES, SCORES, SPECIAL))


def load(folder: Path, max_len: int) -> "UnigramIds | None":
    """The folder's fast question tokenizer, or None when it has none."""
    if not available(folder):
        return None
    special = json.loads((folder / SPECIAL).read_text())
    return UnigramIds(folder, special["bos"], special["eos"], special["unk"], max_len)


class UnigramIds:
    """ids(text) -> [bos, pieces..., eos], truncated to max_len like the `tokenizers` tokenizer."""

    def __init__(self, folder: Path, bos: int, eos: int, unk: int, max_len: int):
        pieces = (folder / PIECES).read_text(encoding="utf-8").split("\n")
        self._ids = dict(zip(pieces, range(len(pieces))))
        self._scores = np.load(folder / SCORES, allow_pickle=False).tolist()
        self._unk_score = min(self._scores) - 10.0
        self._longest = max(len(p) for p in pieces)
        self.bos, self.eos, self.unk, self.max_len = bos, eos, unk, max_len

    def normalise(self, text: str) -> str:
        text = unicodedata.normalize("NFKC", _SPACE.sub(" ", _DROP.sub("", text)))
        text = _SPACES.sub(" ", text).replace(" ", META)
        return text if text.startswith(META) else META + text

    def ids(self, text: str) -> list[int]:
        s = self.normalise(text)
        n, get, scores, unk = len(s), self._ids.get, self._scores, self.unk
        best = [float("-inf")] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            here = best[i]
            single = False
            for end in range(i + 1, min(n, i + self._longest) + 1):
                piece = get(s[i:end])
                if piece is None or piece == unk:
                    continue
                single |= end == i + 1
                score = here + scores[piece]
                if score > best[end]:
                    best[end], back[end] = score, (i, piece)
            if not single and here + self._unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = here + self._unk_score, (i, unk)
        out, end = [], n
        while end > 0:
            start, piece = back[end]
            if not (piece == unk and out and out[-1] == unk):  # consecutive unknowns make one token
                out.append(piece)
            end = start
        out.reverse()
        return [self.bos, *out[:self.max_len - 2], self.eos]
