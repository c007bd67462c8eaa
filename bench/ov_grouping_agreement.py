"""Benchmark: how the offline synonym groupings agree, and what they do to MER-OV scores.

For a ground truth and one or more predictions (release format, ``name,openset``):

1. scores (accuracy, recall, avg) of each prediction with exact words (no grouping), the
   shipped lexicon and the sentence-encoder clustering, side by side;
2. how many clips get the same scores under the lexicon and the encoder grouping;
3. over the vocabulary of all their words, pairwise agreement of the encoder clustering
   with the lexicon (pairs of words grouped together by one, by the other, by both;
   adjusted Rand index), for a few encoder thresholds.

    .venv/bin/python bench/ov_grouping_agreement.py --gt results/ov/demo/ov-labels.csv \\
        --pred fusion=results/ov/predictions/fusion.csv \\
        --pred random=results/ov/predictions/random.csv
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))

from sklearn.metrics import adjusted_rand_score

from merlib.ov.files import read_openset_csv
from merlib.ov.groupings import EncoderGrouper, compute_groupings
from merlib.ov.lexicon import lexicon_grouping, load_lexicon
from merlib.ov.scoring import clip_scores, compare_predictions


def partition_labels(words: list[str], groups: list[list[str]]) -> list[int]:
    """Cluster id of each word (words in no group are singletons)."""
    where = {}
    for i, group in enumerate(groups):
        for w in group:
            where.setdefault(w, i)
    next_id = len(groups)
    out = []
    for w in words:
        if w not in where:
            where[w] = next_id
            next_id += 1
        out.append(where[w])
    return out


def pair_agreement(a: list[int], b: list[int]) -> tuple[int, int, int]:
    together_a = together_b = both = 0
    for i, j in itertools.combinations(range(len(a)), 2):
        ta, tb = a[i] == a[j], b[i] == b[j]
        together_a += ta
        together_b += tb
        both += ta and tb
    return together_a, together_b, both


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gt", required=True)
    parser.add_argument("--pred", action="append", required=True, help="method=path")
    parser.add_argument("--threshold", type=float, default=0.25)
    args = parser.parse_args()

    gt = read_openset_csv(args.gt, allow_empty=False)
    preds = {k: read_openset_csv(v) for k, v in (p.split("=", 1) for p in args.pred)}
    lexicon = load_lexicon()
    encoder = EncoderGrouper(args.threshold)
    groupings = {}
    for method, pred in preds.items():
        groupings[f"lexicon/{method}"] = compute_groupings(
            gt, pred, lambda ws: lexicon_grouping(ws, lexicon)
        )
        groupings[f"encoder/{method}"] = compute_groupings(gt, pred, encoder)
    table = compare_predictions(gt, preds, groupings)
    print(f"scores on {args.gt} ({len(gt)} clips; encoder threshold {args.threshold})")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))

    print("\nclips scored identically (accuracy and recall) under lexicon and encoder:")
    for method, pred in preds.items():
        same = sum(
            clip_scores(words, pred.get(name, []), groupings[f"lexicon/{method}"][name])
            == clip_scores(words, pred.get(name, []), groupings[f"encoder/{method}"][name])
            for name, words in gt.items()
        )
        print(f"  {method}: {same} of {len(gt)}")

    vocab = sorted(
        {w.lower() for ws in gt.values() for w in ws}
        | {w.lower() for p in preds.values() for ws in p.values() for w in ws}
    )
    covered = sum(lexicon.group_of(w) is not None for w in vocab)
    lex = partition_labels(vocab, lexicon_grouping(vocab, lexicon))
    print(f"\nvocabulary: {len(vocab)} words, {covered} in the lexicon")
    print(
        "threshold  encoder_groups  lexicon_pairs  encoder_pairs  shared  pair_prec  pair_rec  ARI"
    )
    for threshold in sorted({0.2, 0.25, 0.3, 0.4, 0.5, args.threshold}):
        enc = partition_labels(vocab, EncoderGrouper(threshold)(vocab))
        la, eb, both = pair_agreement(lex, enc)
        prec = both / eb if eb else float("nan")
        rec = both / la if la else float("nan")
        ari = adjusted_rand_score(lex, enc)
        print(
            f"{threshold:9.2f}  {len(set(enc)):14d}  {la:13d}  {eb:13d}  {both:6d}"
            f"  {prec:9.3f}  {rec:8.3f}  {ari:.3f}"
        )


if __name__ == "__main__":
    main()
