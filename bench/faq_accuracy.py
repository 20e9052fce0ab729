"""Top-1 accuracy of the /re-faq topic matcher on member phrasings, against the 90% goal.

Prints one line: `faq_accuracy: faq-dev-questions answered 41/42 = 0.976 (goal 0.90, ratio 1.08); ...`.
"answered" counts replies whose answered topic is right (a withheld answer counts as wrong); "top1" counts the best
ranked topic even when the bot withheld it; "close calls" are answers given with two alternatives beside them.
The development set (tests/data/faq-dev-questions.yaml) holds phrasings that are not in the content's example
questions; other evaluation files can be passed as arguments.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from content import load_content
from content.search import TopicMatcher

GOAL = 0.90
ROOT = Path(__file__).resolve().parent.parent


def score(matcher: TopicMatcher, path: Path, verbose: bool) -> str:
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    answered = top1 = close = 0
    for row in rows:
        match = matcher.match(row["q"])
        top = match.ranked[0][0] if match.ranked else None
        top1 += top in row["ok"]
        answered += match.topic in row["ok"]
        close += match.topic is not None and not match.confident
        if verbose and match.topic not in row["ok"]:
            best = [(t, round(s, 2)) for t, s in match.ranked[:3]]
            print(f"  {'MISS' if top not in row['ok'] else 'withheld'}: {row['q']!r} -> {best} want {row['ok']}")
    n = len(rows)
    return (
        f"{path.stem} answered {answered}/{n} = {answered / n:.3f} (goal {GOAL:.2f}, ratio {answered / n / GOAL:.2f}),"
        f" top1 {top1 / n:.3f}, close calls {close}"
    )


def main() -> None:
    verbose = "-v" in sys.argv
    data = ROOT / "tests" / "data"
    files = [Path(a) for a in sys.argv[1:] if a != "-v"] or [
        data / "faq-dev-questions.yaml",
        data / "faq-heldout-questions.yaml",
    ]
    matcher = TopicMatcher(load_content())
    print("faq_accuracy: " + "; ".join(score(matcher, path, verbose) for path in files))


if __name__ == "__main__":
    main()
