"""Retrieval quality and speed of the knowledge base, on the labelled set the project ships.

    .venv/bin/python bench/kb_retrieval.py                       # PostgreSQL from CHATS_TEST_DATABASE_URL
    .venv/bin/python bench/kb_retrieval.py --entries 10000 --json

The labelled set (``bench/data/kb_*.json``): 62 entries of a web shop in English, Ukrainian and
Russian, each with a question, sometimes an alternative phrasing, and an answer, and 310
paraphrases written the way customers write (other words, other word order, no punctuation,
typos), plus 30 questions the base has no answer for. The bench creates a scratch database
(dropped at the end, unless ``--keep``: then it prints its URL, for EXPLAIN),
publishes the entries through the services, and prints

* recall@1 and recall@3 (the right entry first / among the first three), lexical, and hybrid
  when a provider with an embedding model is configured (``CHATS_AI_BASE_URL``,
  ``CHATS_AI_API_KEY``, ``CHATS_AI_EMBEDDING_MODEL`` in the environment);
* for grounding thresholds, the share of paraphrases whose right entry is first *and* grounded,
  and the share of unanswerable questions that (wrongly) get a grounded match;
* the same recall and the latency of ``retrieval.search`` (p50, p99, after a few untimed
  searches) with the base grown to
  each of the ``--entries`` sizes in turn by distractors (generated shop questions in the three
  languages).

After each load the bench runs ``ANALYZE`` on the knowledge-base tables, as autovacuum does on
a server that runs it (the development server does not): without statistics PostgreSQL plans
for empty tables. The load average is printed with the figures: latency on a shared machine
carries other processes' load.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from gincore_chats.models import EntryStatus  # noqa: E402
from gincore_chats.services.knowledge import entries, retrieval  # noqa: E402
from gincore_chats.services.knowledge import settings as kb_settings  # noqa: E402
from gincore_chats.services.unit_of_work import unit_of_work  # noqa: E402
from tests import hostapp  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
LANGUAGES = ("en", "uk", "ru")
#: Untimed searches per language before each timed pass.
WARMUP = 4
THRESHOLDS = (0.30, 0.34, 0.38, 0.42, 0.46, 0.50, 0.55, 0.62, 0.70)

# Distractors: questions a shop also gets, built from parts, so they share words with the set.
PARTS = {
    "en": (
        ["Can I", "How do I", "Is it possible to", "Where can I", "Do you let me", "Why can't I"],
        [
            "order",
            "buy",
            "reserve",
            "wrap",
            "engrave",
            "personalise",
            "insure",
            "preorder",
            "compare",
            "rate",
            "review",
            "save",
            "share",
            "recycle",
            "clean",
            "charge",
            "pair",
            "assemble",
            "install",
            "store",
        ],
        [
            "a phone case",
            "running shoes",
            "a winter jacket",
            "wireless headphones",
            "a backpack",
            "a smart watch",
            "kids boots",
            "a yoga mat",
            "a coffee grinder",
            "a desk lamp",
            "leather gloves",
            "a travel mug",
            "a power bank",
            "a gift box",
            "sunglasses",
        ],
        [
            "online",
            "in the app",
            "for a friend",
            "before the holidays",
            "with my loyalty card",
            "on the website",
            "at the outlet",
            "in bulk",
            "without an account",
            "next week",
        ],
    ),
    "uk": (
        ["Чи можу я", "Як мені", "Чи можна", "Де можна", "Чому не можу"],
        [
            "замовити",
            "купити",
            "зарезервувати",
            "запакувати",
            "гравіювати",
            "застрахувати",
            "порівняти",
            "оцінити",
            "зберегти",
            "почистити",
            "зарядити",
            "зібрати",
            "встановити",
        ],
        [
            "чохол для телефону",
            "бігові кросівки",
            "зимову куртку",
            "бездротові навушники",
            "рюкзак",
            "смарт-годинник",
            "дитячі чоботи",
            "килимок для йоги",
            "кавомолку",
            "настільну лампу",
            "шкіряні рукавички",
            "павербанк",
            "подарункову коробку",
        ],
        [
            "онлайн",
            "у застосунку",
            "для друга",
            "перед святами",
            "з картою лояльності",
            "на сайті",
            "в аутлеті",
            "оптом",
            "без акаунта",
            "наступного тижня",
        ],
    ),
    "ru": (
        ["Могу ли я", "Как мне", "Можно ли", "Где можно", "Почему не могу"],
        [
            "заказать",
            "купить",
            "зарезервировать",
            "упаковать",
            "гравировать",
            "застраховать",
            "сравнить",
            "оценить",
            "сохранить",
            "почистить",
            "зарядить",
            "собрать",
            "установить",
        ],
        [
            "чехол для телефона",
            "беговые кроссовки",
            "зимнюю куртку",
            "беспроводные наушники",
            "рюкзак",
            "смарт-часы",
            "детские сапоги",
            "коврик для йоги",
            "кофемолку",
            "настольную лампу",
            "кожаные перчатки",
            "павербанк",
            "подарочную коробку",
        ],
        [
            "онлайн",
            "в приложении",
            "для друга",
            "перед праздниками",
            "с картой лояльности",
            "на сайте",
            "в аутлете",
            "оптом",
            "без аккаунта",
            "на следующей неделе",
        ],
    ),
}


def load_set() -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[str]]]:
    labelled = {lang: json.loads((DATA / f"kb_{lang}.json").read_text()) for lang in LANGUAGES}
    negatives = json.loads((DATA / "kb_negative.json").read_text())
    return labelled, negatives


def scratch_database(admin_url: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"chats_kb_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def publish(state: Any, labelled: dict[str, list[dict[str, Any]]]) -> dict[tuple[str, int], int]:
    ids = {}
    with unit_of_work(state.session):
        for lang, items in labelled.items():
            for i, item in enumerate(items):
                entry = entries.do_create(
                    state,
                    None,
                    language=lang,
                    question=item["q"],
                    answer=item["a"],
                    alternatives=item.get("alt", []),
                    status=EntryStatus.PUBLISHED,
                )
                ids[(lang, i)] = entry.id
    return ids


def analyze(state: Any) -> None:
    with unit_of_work(state.session):
        for table in ("chats_kb_entries", "chats_kb_phrasings", "chats_kb_terms"):
            state.session.execute(text(f"ANALYZE {table}"))


def distractors_of(seed: int = 7) -> Iterator[tuple[str, str, str]]:
    """(language, question, answer) without end; the same sequence for a seed, so a base grown
    in steps holds the same distractors as one grown at once."""
    rng = random.Random(seed)
    made, seen = 0, set()
    while True:
        lang = LANGUAGES[made % 3]
        lead, verbs, things, tails = PARTS[lang]
        question = (
            f"{rng.choice(lead)} {rng.choice(verbs)} {rng.choice(things)} {rng.choice(tails)}?"
        )
        if question in seen:
            question = f"{question[:-1]} #{made}?"
        seen.add(question)
        answer = (
            f"{rng.choice(things)}: {rng.choice(verbs)} {rng.choice(tails)}, "
            f"{rng.randint(1, 30)} {rng.choice(things)}."
        )
        yield lang, question, answer
        made += 1


def add_distractors(state: Any, source: Iterator[tuple[str, str, str]], count: int) -> int:
    made = 0
    while made < count:
        with unit_of_work(state.session):
            for _ in range(min(500, count - made)):
                lang, question, answer = next(source)
                entries.do_create(
                    state, None, language=lang, question=question, answer=answer,
                    status=EntryStatus.PUBLISHED,
                )  # fmt: skip
                made += 1
    return made


def evaluate(
    state: Any,
    labelled: dict[str, list[dict[str, Any]]],
    ids: dict[tuple[str, int], int],
    negatives: dict[str, list[str]],
    *,
    hybrid: bool = False,
) -> dict[str, Any]:
    at1 = at3 = total = 0
    per_lang: dict[str, list[int]] = {lang: [0, 0, 0] for lang in LANGUAGES}
    top_scores: list[tuple[bool, float]] = []
    latencies: list[float] = []
    misses: list[str] = []
    # Warm-up, not timed: a process's first searches compile and prepare the statement.
    for lang, queries in negatives.items():
        for query in queries[:WARMUP]:
            retrieval.search(state, text=query, language=lang, source_id=None, limit=3)
            state.session.rollback()
    for lang, items in labelled.items():
        for i, item in enumerate(items):
            for query in item["p"]:
                vector = retrieval.embed_query(state, query) if hybrid else None
                started = time.perf_counter()
                found = retrieval.search(
                    state, text=query, language=lang, source_id=None, limit=3, embedding=vector
                )
                latencies.append(time.perf_counter() - started)
                state.session.rollback()
                got = [m.entry_id for m in found]
                right = ids[(lang, i)]
                total += 1
                per_lang[lang][2] += 1
                if got[:1] == [right]:
                    at1 += 1
                    per_lang[lang][0] += 1
                if right in got:
                    at3 += 1
                    per_lang[lang][1] += 1
                else:
                    misses.append(f"{lang}: {query!r} -> {found[0].question if found else None!r}")
                top_scores.append((got[:1] == [right], found[0].lexical if found else 0.0))
    neg_scores = []
    for lang, queries in negatives.items():
        for query in queries:
            found = retrieval.search(state, text=query, language=lang, source_id=None, limit=1)
            state.session.rollback()
            neg_scores.append(found[0].lexical if found else 0.0)
    sweep = []
    for t in THRESHOLDS:
        answered = sum(1 for ok, s in top_scores if ok and s >= t) / len(top_scores)
        wrong = sum(1 for ok, s in top_scores if not ok and s >= t) / len(top_scores)
        false_neg = sum(1 for s in neg_scores if s >= t) / len(neg_scores)
        sweep.append({"threshold": t, "right_and_grounded": answered, "wrong_but_grounded": wrong,
                      "unanswerable_grounded": false_neg})  # fmt: skip
    ordered = sorted(latencies)
    return {
        "queries": total,
        "recall@1": at1 / total,
        "recall@3": at3 / total,
        "per_language": {
            k: {"recall@1": v[0] / v[2], "recall@3": v[1] / v[2]} for k, v in per_lang.items()
        },
        "sweep": sweep,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
        "misses": misses,
    }


def report(title: str, result: dict[str, Any], show_sweep: bool) -> None:
    print(f"\n{title}: {result['queries']} paraphrases")
    print(f"  recall@1 {result['recall@1']:.3f}   recall@3 {result['recall@3']:.3f}")
    for lang, r in result["per_language"].items():
        print(f"    {lang}: recall@1 {r['recall@1']:.3f}   recall@3 {r['recall@3']:.3f}")
    print(f"  search latency: p50 {result['p50_ms']:.1f} ms   p99 {result['p99_ms']:.1f} ms"
          f"   (load average {result['load_average']:.1f})")  # fmt: skip
    if show_sweep:
        print("  threshold   right+grounded   wrong+grounded   unanswerable grounded")
        for row in result["sweep"]:
            print(
                f"  {row['threshold']:9.2f}   {row['right_and_grounded']:14.3f}   "
                f"{row['wrong_but_grounded']:14.3f}   {row['unanswerable_grounded']:21.3f}"
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get(
        "CHATS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="an admin connection; the bench creates and drops its own database")  # fmt: skip
    parser.add_argument("--entries", default="1000,10000",
                        help="grow the base to these sizes in turn (comma-separated)")  # fmt: skip
    parser.add_argument("--redis-url", default=os.environ.get(
        "CHATS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))  # fmt: skip
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list the paraphrases missed")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch database (for EXPLAIN) and print its URL")  # fmt: skip
    args = parser.parse_args(argv)

    sizes = sorted({int(n) for n in args.entries.split(",") if n.strip()})
    labelled, negatives = load_set()
    url = scratch_database(args.database_url)
    ai = {k: os.environ[k] for k in ("CHATS_AI_BASE_URL", "CHATS_AI_API_KEY",
                                     "CHATS_AI_EMBEDDING_MODEL") if os.environ.get(k)}  # fmt: skip
    try:
        app = hostapp.create_app(SQLALCHEMY_DATABASE_URI=url, CHATS_REDIS_URL=args.redis_url, **ai)
        hostapp.create_tables(app)
        with app.app_context():
            state = app.extensions["gincore_chats"]
            ids = publish(state, labelled)
            analyze(state)
            results: dict[str, Any] = {
                "entries": len(ids),
                "trigram": retrieval.index.trigram_available(state),
                "lexical": evaluate(state, labelled, ids, negatives),
            }
            results["lexical"]["load_average"] = os.getloadavg()[0]
            provider = state.config.ai
            if provider is not None and provider.can_embed:
                from gincore_chats.jobs.knowledge import embed_entry

                for entry_id in ids.values():
                    embed_entry(entry_id)
                results["hybrid"] = evaluate(state, labelled, ids, negatives, hybrid=True)
                results["hybrid"]["load_average"] = os.getloadavg()[0]
            results["sizes"] = []
            source, distractors = distractors_of(), 0
            for size in sizes:
                grown = max(0, size - len(ids) - distractors)
                started = time.monotonic()
                add_distractors(state, source, grown)
                distractors += grown
                analyze(state)
                indexing = time.monotonic() - started
                at_size = evaluate(state, labelled, ids, negatives)
                at_size.update(distractors=distractors, indexing_seconds=indexing,
                               load_average=os.getloadavg()[0])  # fmt: skip
                results["sizes"].append(at_size)
            results["grounded_default"] = kb_settings.GROUNDED
    finally:
        if args.keep:
            print(f"Kept the database: {url}", file=sys.stderr)
        else:
            drop_database(args.database_url, url)

    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0
    print(f"Labelled set: {results['entries']} entries (en, uk, ru); pg_trgm: {results['trigram']}")
    report("Lexical, labelled entries only", results["lexical"], True)
    if "hybrid" in results:
        report("Hybrid (lexical + embeddings)", results["hybrid"], False)
    else:
        print(
            "\nHybrid: skipped (set CHATS_AI_BASE_URL, CHATS_AI_API_KEY, CHATS_AI_EMBEDDING_MODEL)"
        )
    for at_size in results["sizes"]:
        size = results["entries"] + at_size["distractors"]
        report(f"Lexical at {size} entries ({at_size['distractors']} distractors, grown in "
               f"{at_size['indexing_seconds']:.0f} s)", at_size, False)  # fmt: skip
    if args.misses:
        print("\nMissed at @3 (labelled only):")
        for line in results["lexical"]["misses"]:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
