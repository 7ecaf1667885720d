"""Measure the screening name matcher on the labelled set (issue 6, point 5)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from users.screening import evaluation
from users.screening.matching import threshold_for

DEFAULT_PATH = Path(settings.BASE_DIR) / "tests" / "data" / "screening_eval.jsonl"


class Command(BaseCommand):
    help = (
        "Print precision, recall and F1 of the screening matcher at the configured threshold, beside a plain "
        "rapidfuzz token_sort_ratio baseline (at its best threshold and at ours), and pairs/s."
    )

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, default=DEFAULT_PATH, help="labelled pairs (JSON lines)")
        parser.add_argument("--kind", default="SANCTIONS", help="source kind whose threshold to use")
        parser.add_argument("--limit", type=int, default=0, help="evaluate only the first N pairs")
        parser.add_argument(
            "--regenerate", action="store_true", help="rewrite the set from the generator first"
        )
        parser.add_argument("--seed", type=int, default=6, help="generator seed (with --regenerate)")
        parser.add_argument("--categories", action="store_true", help="also print results per category")

    def handle(
        self, *args, path: Path, kind: str, limit: int, regenerate: bool, seed: int, categories: bool, **kw
    ):
        try:
            threshold = threshold_for(kind)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if regenerate:
            pairs = evaluation.generate_pairs(seed)
            evaluation.write_pairs(path, pairs)
            self.stdout.write(f"wrote {len(pairs)} pairs to {path}")
        if not path.exists():
            raise CommandError(f"{path} does not exist (run with --regenerate)")
        pairs = evaluation.read_pairs(path)
        if limit:
            pairs = pairs[:limit]
        if not pairs:
            raise CommandError(f"{path} holds no pairs")
        positives = sum(1 for p in pairs if p["label"])
        self.stdout.write(f"{len(pairs)} pairs ({positives} matches, {len(pairs) - positives} non-matches)")

        ours, ours_rate = evaluation.score_matcher(pairs)
        base, base_rate = evaluation.score_baseline(pairs)
        rows = [
            (f"matcher @ {kind} threshold", evaluation.quality(ours, threshold), ours_rate),
            ("matcher @ its best threshold", evaluation.best_threshold(ours), ours_rate),
            ("token_sort_ratio @ its best threshold", evaluation.best_threshold(base), base_rate),
            (f"token_sort_ratio @ {kind} threshold", evaluation.quality(base, threshold), base_rate),
        ]
        self.stdout.write(
            f"{'':40} {'thr':>5} {'precision':>9} {'recall':>7} {'F1':>6} {'TP':>5} {'FP':>4} {'FN':>4}"
        )
        for label, q, rate in rows:
            self.stdout.write(
                f"{label:40} {q.threshold:5g} {q.precision:9.3f} {q.recall:7.3f} {q.f1:6.3f} "
                f"{q.true_positives:5d} {q.false_positives:4d} {q.false_negatives:4d}  ({rate:,.0f} pairs/s)"
            )
        if categories:
            self.stdout.write("per category at the configured threshold (+ recall, - specificity):")
            for key, (count, share) in evaluation.recall_by_category(pairs, ours, threshold).items():
                self.stdout.write(f"  {key:32} {count:5d} {share:6.3f}")
