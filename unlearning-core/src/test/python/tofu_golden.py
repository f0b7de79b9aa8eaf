"""Independent reference values for the TOFU metric tests (dev.loku.core.tofu).

Needs scipy and nltk (e.g. a venv built offline from the machine's wheel folders). Run from the project root:
    python unlearning-core/src/test/python/tofu_golden.py data/tofu unlearning-core/src/test/resources/tofu
It writes
  porter-nltk.tsv  word <TAB> NLTK PorterStemmer().stem(word) (default NLTK_EXTENSIONS mode, the one rouge_score uses)
                   for every distinct word longer than three letters in the TOFU data;
  rougel.tsv       reference <TAB> generated <TAB> ROUGE-L recall, tokenised as rouge_score's tokenize.py does
                   (lower case, non-alphanumeric runs to spaces, words of 4+ letters stemmed), LCS by the full table;
  ks/*.txt         samples for TofuStatisticsTest; it prints scipy.stats.ks_2samp's statistic and p-value for each.
"""
import json
import re
import sys
from pathlib import Path

import numpy as np
from nltk.stem import porter
from scipy import stats

STEM = porter.PorterStemmer()


def tokens(text):
    words = [w for w in re.split(r"\s+", re.sub(r"[^a-z0-9]+", " ", text.lower())) if w]
    return [STEM.stem(w) if len(w) > 3 else w for w in words]


def lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i][j] = table[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(table[i - 1][j], table[i][j - 1])
    return table[-1][-1]


def recall(reference, generated):
    r, g = tokens(reference), tokens(generated)
    return lcs(r, g) / len(r) if r and g else 0.0


def main(data, out):
    data, out = Path(data), Path(out)
    rows = [json.loads(l) for l in open(data / "tofu_qa.jsonl", encoding="utf-8") if l.strip()]
    texts = [r["question"] for r in rows] + [r["answer"] for r in rows]
    vocab = sorted({w for t in texts for w in re.sub(r"[^a-z0-9]+", " ", t.lower()).split() if len(w) > 3})
    with open(out / "porter-nltk.tsv", "w", encoding="utf-8") as f:
        f.write("# word\tNLTK PorterStemmer().stem(word)\n")
        for w in vocab:
            f.write(f"{w}\t{STEM.stem(w)}\n")
    answers = [" ".join(r["answer"].split()) for r in rows]  # no tab or newline inside a TSV field
    with open(out / "rougel.tsv", "w", encoding="utf-8") as f:
        f.write("# reference\tgenerated\trecall\n")
        for i in range(0, len(answers), 2):
            ref = answers[i]
            words = ref.split()
            for gen in (answers[(i + 1) % len(answers)], " ".join(words[: len(words) // 2]),
                        " ".join(reversed(words)), " ".join(words[1::2]) + " " + answers[(i + 7) % len(answers)]):
                f.write(f"{ref}\t{gen}\t{recall(ref, gen)!r}\n")
    (out / "ks").mkdir(exist_ok=True)
    rng = np.random.default_rng(7)
    for n, m, shift in [(40, 40, 0.5), (200, 200, 0.2), (300, 300, 0.15), (40, 300, 0.3), (400, 300, 0.1)]:
        x = np.round(rng.lognormal(0, 1, n), 4)
        y = np.round(rng.lognormal(shift, 1, m), 4)
        np.savetxt(out / "ks" / f"ks_{n}_{m}_x.txt", x)
        np.savetxt(out / "ks" / f"ks_{n}_{m}_y.txt", y)
        r = stats.ks_2samp(x, y)
        print(n, m, repr(float(r.statistic)), repr(float(r.pvalue)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
