"""Latency of the public sync ``MemoryClient`` on the embedded SQLite store, local embedder.

Measures, each on a fresh temporary SQLite file:

1. ``add`` (one conversation turn, local embedding included) on one user across a few threads;
2. ``search`` (hybrid, ``top=10``, query embedding included) over 10,000 memories of one user;
3. ``search`` at 100,000 memories of one user in hybrid, vector and text mode, against a bare
   NumPy brute-force cosine top-10 over the same normalised embeddings, with and without
   embedding the query.

All text is generated deterministically from word lists with a seeded ``random.Random``; no
network access and no downloads. Run ``python bench/sdk_latency.py`` (add ``--quick`` for a
smoke run with small sizes, ``--write`` to replace the results block of ``bench/README.md``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final, TypeVar

import numpy as np
import numpy.typing as npt

from agent_memory import Memory, MemoryClient
from agent_memory.core.models import MemoryType, SearchMode

T = TypeVar("T")
FloatMatrix = npt.NDArray[np.float32]

USER: Final = "bench-user"
TOP: Final = 10
EMBED_BATCH: Final = 1_000
ADD_WARMUP: Final = 10
README: Final = Path(__file__).resolve().parent / "README.md"
BEGIN_MARKER: Final = "<!-- sdk_latency:begin -->"
END_MARKER: Final = "<!-- sdk_latency:end -->"

ADD_GOAL_MS: Final = 5.0
SEARCH_GOAL_MS: Final = 10.0
MODES: Final[tuple[SearchMode, ...]] = ("hybrid", "vector", "text")
BARE: Final = "bare"
BARE_EMBED: Final = "bare+embed"
RATIO_GOAL: Final = 2.0


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much data and how many calls one run uses."""

    adds: int
    threads: int
    search_memories: int
    large_memories: int
    queries: int


FULL: Final = Sizes(
    adds=2_000, threads=4, search_memories=10_000, large_memories=100_000, queries=200
)
QUICK: Final = Sizes(adds=300, threads=3, search_memories=1_000, large_memories=5_000, queries=50)


# -- deterministic text -------------------------------------------------------------------

NAMES: Final = (
    "Anna Raj Sofia Mateo Yuki Omar Lena Tariq Chloe Diego Priya Lukas Amara Jonas Mei Kofi "
    "Elena Hugo Nadia Felix Ines Kenji Zara Malik Greta Paulo Leila Arjun Freya Tomas Ayla "
    "Viktor Noor Emil Rosa Idris Hanna Bruno Saanvi Oscar"
).split()
RELATIONS: Final = (
    "sister brother mother father cousin colleague manager neighbour friend partner "
    "daughter son aunt uncle roommate mentor"
).split()
CITIES: Final = (
    "Lisbon Denver Kyoto Nairobi Oslo Toronto Seville Hanoi Krakow Melbourne Austin Dublin "
    "Marrakesh Vienna Seattle Bogota Tallinn Porto Reykjavik Istanbul Montreal Naples Bergen "
    "Santiago Edinburgh Tbilisi Valencia Chicago Ljubljana Singapore Cusco Helsinki Bordeaux "
    "Zanzibar Lyon Boston Prague Hamburg Osaka Cape-Town Munich Athens Busan Quebec Split "
    "Antwerp Galway Tucson Trieste Wellington"
).split()
FOODS: Final = (
    "peanuts shellfish mushrooms avocado sushi ramen lentils tofu salmon goat-cheese "
    "eggplant cilantro olives kimchi quinoa chickpeas mango dark-chocolate oat-milk espresso "
    "green-tea sourdough pesto falafel halloumi walnuts pineapple couscous tempeh paneer "
    "gnocchi miso hummus blueberries spinach beetroot fennel lamb duck prawns strawberries "
    "cashews pistachios gluten dairy soy sesame celery mustard coriander"
).split()
ACTIVITIES: Final = (
    "hiking sailing climbing cycling kayaking skiing surfing swimming running camping "
    "birdwatching snorkelling paragliding rowing bouldering fishing diving skating "
    "trail-running horse-riding stargazing canoeing windsurfing caving foraging "
    "cross-country-skiing mountain-biking wild-swimming sketching photographing"
).split()
TOOLS: Final = (
    "Notion Obsidian Excel Figma Jira Trello Slack VS-Code Vim PyCharm Lightroom Photoshop "
    "Todoist Airtable Asana Miro Zotero Anki Linear GitHub Tableau PowerBI Blender Ableton "
    "Logseq Evernote Canva Postman Docker Grafana"
).split()
JOBS: Final = (
    "nurse teacher data-analyst architect software-engineer pharmacist accountant "
    "journalist product-manager electrician chef physiotherapist lawyer graphic-designer "
    "researcher translator pilot veterinarian librarian carpenter"
).split()
PETS: Final = "dog cat parrot rabbit tortoise hamster ferret gecko horse goldfish".split()
PET_ADJECTIVES: Final = "old young shy noisy lazy playful grumpy tiny fluffy clever".split()
PET_NAMES: Final = (
    "Biscuit Pepper Luna Mochi Ziggy Olive Rocket Maple Pixel Noodle Clover Bean Juno Waffles "
    "Tofu Nala Pickle Sprout Comet Fig"
).split()
SPORTS: Final = (
    "tennis badminton squash volleyball basketball football padel table-tennis golf "
    "ultimate-frisbee handball chess rugby cricket futsal"
).split()
WEEKDAYS: Final = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS: Final = (
    "January February March April May June July August September October November December"
).split()
PERIODS: Final = "week month year spring summer autumn winter quarter semester".split()
WHENS: Final = (
    "tomorrow|next Friday|this weekend|in two weeks|next month|on Sunday morning|"
    "after the holidays|before my birthday|early next year|tonight"
).split("|")
PAST_WHENS: Final = (
    "last week|the move|the new job started|the holidays|my trip|March|the baby arrived"
).split("|")
EVENTS: Final = (
    "wedding|birthday party|conference|job interview|dentist appointment|marathon|"
    "family reunion|graduation|book club|yoga retreat|hackathon|piano recital"
).split("|")
DISHES: Final = (
    "curry|salad|pasta bake|soup|stir-fry|tacos|risotto|stew|frittata|noodle bowl|"
    "flatbread|lasagne|dumplings|chili|paella"
).split("|")
DISH_ADJECTIVES: Final = (
    "quick vegetarian spicy cheap healthy vegan gluten-free one-pot low-carb hearty "
    "kid-friendly high-protein"
).split()
FEELINGS: Final = "exhausted thrilled anxious relieved proud homesick inspired calm".split()
REASONS: Final = (
    "the price|better sync|offline support|team requirements|a cleaner interface|"
    "privacy concerns|faster search|the mobile app"
).split("|")
TASKS: Final = (
    "budgeting|note taking|photo editing|project planning|habit tracking|reading lists|"
    "meal planning|language learning|time tracking|expense reports"
).split("|")
TRANSPORTS: Final = "train bus ferry plane car bike".split()
MEALS: Final = "breakfast lunch dinner brunch snacks".split()
PLACES: Final = (
    "old town|harbour|botanical garden|night market|river walk|national park|"
    "modern art museum|hot springs|lighthouse|central station"
).split("|")
TASTES: Final = "bitter sweet salty rich spicy sour bland".split()
CAUSES: Final = "coffee|screen time|late dinners|the heat|street noise|stress at work".split("|")
ITEMS: Final = (
    "batteries|a birthday card|sunscreen|printer ink|light bulbs|a phone charger|"
    "dish soap|train tickets"
).split("|")

SLOTS: Final[dict[str, Sequence[str]]] = {
    "name": NAMES,
    "name2": NAMES,
    "relation": RELATIONS,
    "city": CITIES,
    "city2": CITIES,
    "food": FOODS,
    "food2": FOODS,
    "activity": ACTIVITIES,
    "activity2": ACTIVITIES,
    "tool": TOOLS,
    "tool2": TOOLS,
    "job": JOBS,
    "pet": PETS,
    "pet_adj": PET_ADJECTIVES,
    "petname": PET_NAMES,
    "sport": SPORTS,
    "weekday": WEEKDAYS,
    "month": MONTHS,
    "period": PERIODS,
    "when": WHENS,
    "when_past": PAST_WHENS,
    "event": EVENTS,
    "dish": DISHES,
    "dish_adj": DISH_ADJECTIVES,
    "feeling": FEELINGS,
    "reason": REASONS,
    "task": TASKS,
    "transport": TRANSPORTS,
    "meal": MEALS,
    "place": PLACES,
    "taste": TASTES,
    "cause": CAUSES,
    "item": ITEMS,
    "count": tuple(str(n) for n in range(2, 13)),
}

USER_TURNS: Final = (
    "I'm thinking about {activity} near {city} {when}, any tips?",
    "My {relation} {name} just started {activity} and honestly loves it.",
    "Can you remind me to buy {item} and some {food} {when}?",
    "I really don't like {food}, it's way too {taste} for me.",
    "We're flying to {city} {when} for {name}'s {event}.",
    "How long does it take to get from {city} to {city2} by {transport}?",
    "I switched from {tool} to {tool2} at work last {period}, still getting used to it.",
    "My {relation} is allergic to {food}, so keep that in mind for recipes.",
    "I've been sleeping badly since {when_past}, maybe it's {cause}.",
    "What's a good {dish_adj} {dish} I could cook for {count} people?",
    "Do you remember what {name} said about the {place} in {city}?",
    "I need a plan for {task} that doesn't take more than {count} minutes a day.",
    "Our {pet} {petname} has been really {pet_adj} lately, should I worry?",
    "I'm playing {sport} with {name} on {weekday}, what should I bring?",
)
ASSISTANT_TURNS: Final = (
    "Got it, I'll remember that you prefer {food} over {food2} for {meal}.",
    "Sure! {city} is lovely in {month}; try {activity} near the {place}.",
    "Here's a quick plan: {activity} in the morning, then {activity2} after lunch.",
    "Noted: {name} is your {relation} and lives in {city}.",
    "You could try {tool} for {task}; it handles that really well.",
    "That sounds exciting. Want me to add the {event} to your calendar for {when}?",
    "A {dish_adj} {dish} with {food} works well for {count} people and takes about an hour.",
    "The {transport} from {city} to {city2} is usually the most relaxed option.",
    "If {cause} keeps you up, try cutting it back {count} hours before bed.",
    "For {sport} on {weekday}, bring water, a towel and spare shoes.",
)
MEMORY_TEMPLATES: Final[tuple[tuple[MemoryType, str], ...]] = (
    ("fact", "The user's {relation} {name} lives in {city}."),
    ("fact", "The user is allergic to {food} and avoids it at {meal}."),
    ("fact", "The user prefers {food} over {food2} for {meal}."),
    ("fact", "The user works as a {job} and uses {tool} every day."),
    ("fact", "The user owns a {pet_adj} {pet} named {petname}."),
    ("fact", "The user's favourite city for {activity} is {city}."),
    ("fact", "The user plays {sport} every {weekday} with {relation} {name}."),
    ("fact", "The user's {relation} {name} works as a {job} in {city}."),
    ("procedural", "When planning trips to {city}, book {transport} tickets {count} weeks ahead."),
    ("procedural", "Suggest {dish_adj} {dish} recipes without {food} when the user asks."),
    ("procedural", "When the user asks about {task}, answer with a checklist and mention {tool}."),
    ("procedural", "Remind the user {count} days before any {event} with {name}."),
    ("episodic", "On a {weekday} in {month} the user went {activity} in {city} with {name}."),
    ("episodic", "In {month} the user attended a {event} in {city} and felt {feeling}."),
    ("episodic", "Last {period} the user switched from {tool} to {tool2} because of {reason}."),
    ("episodic", "The user cooked a {dish_adj} {dish} with {food} for {name}'s {event}."),
)
QUERY_TEMPLATES: Final = (
    "where does my {relation} live",
    "what am I allergic to",
    "{dish_adj} {dish} recipes",
    "trip to {city} {when}",
    "who is {name}",
    "what do I use for {task}",
    "when did I go {activity}",
    "what do I like for {meal}",
    "reminders before the {event}",
    "{sport} on {weekday}",
    "what is my pet called",
    "how early should I book {transport} tickets",
    "tell me about {name} in {city}",
    "foods I avoid like {food}",
    "why did I stop using {tool}",
    "what does my {relation} do for work",
    "how did I feel after the {event}",
    "best place for {activity} near {city}",
)


def fill(template: str, rng: random.Random) -> str:
    """Fill every ``{slot}`` of ``template`` from the word lists."""
    values = {key: rng.choice(words) for key, words in SLOTS.items() if "{" + key + "}" in template}
    text = template.format(**values).replace("-", " ")
    return text[0].upper() + text[1:]


def turn_texts(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """``n`` (role, content) turns alternating user and assistant."""
    out: list[tuple[str, str]] = []
    for i in range(n):
        if i % 2 == 0:
            out.append(("user", fill(rng.choice(USER_TURNS), rng)))
        else:
            out.append(("assistant", fill(rng.choice(ASSISTANT_TURNS), rng)))
    return out


def memory_texts(rng: random.Random, n: int) -> list[tuple[MemoryType, str]]:
    """``n`` memories with distinct content (the store deduplicates identical content)."""
    seen: set[str] = set()
    out: list[tuple[MemoryType, str]] = []
    while len(out) < n:
        memory_type, template = rng.choice(MEMORY_TEMPLATES)
        text = fill(template, rng)
        key = f"{memory_type}\x1f{text.casefold()}"
        if key not in seen:
            seen.add(key)
            out.append((memory_type, text))
    return out


def query_texts(rng: random.Random, n: int) -> list[str]:
    """``n`` search queries in the vocabulary of the memories."""
    return [fill(rng.choice(QUERY_TEMPLATES), rng) for _ in range(n)]


# -- measurement --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stats:
    """Latency summary in milliseconds."""

    calls: int
    p50: float
    p95: float
    mean: float


def summarize(seconds: Sequence[float]) -> Stats:
    """p50, p95 and mean of ``seconds``, in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    p50, p95 = (float(v) for v in np.percentile(ms, [50.0, 95.0]))
    return Stats(calls=len(seconds), p50=p50, p95=p95, mean=float(ms.mean()))


def time_each(call: Callable[[T], object], items: Sequence[T]) -> list[float]:
    """Wall time in seconds of ``call(item)`` for each item, in order."""
    out: list[float] = []
    clock = time.perf_counter
    for item in items:
        start = clock()
        call(item)
        out.append(clock() - start)
    return out


def normalize(matrix: FloatMatrix) -> FloatMatrix:
    """L2-normalised float32 rows."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)


def bare_top(matrix: FloatMatrix, query: FloatMatrix, k: int) -> npt.NDArray[np.intp]:
    """Row indexes of the ``k`` best cosine scores, best first (rows and query normalised)."""
    scores = matrix @ query
    top = np.argpartition(scores, -k)[-k:]
    ordered: npt.NDArray[np.intp] = top[np.argsort(-scores[top])]
    return ordered


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the latency table."""

    label: str
    data: str
    stats: Stats
    goal: str = ""
    met: str = ""


@dataclass(frozen=True, slots=True)
class Ratio:
    """Product search latency over the bare NumPy baseline, at p50 and p95."""

    mode: SearchMode
    p50_bare: float
    p50_bare_embed: float
    p95_bare: float
    p95_bare_embed: float


@dataclass(slots=True)
class Report:
    """Everything one run measured."""

    sizes: Sizes
    quick: bool
    rows: list[Row]
    ratios: list[Ratio]
    notes: list[str]


def yes_no(ok: bool) -> str:
    return "yes" if ok else "**no**"


def bench_add(sizes: Sizes, rng: random.Random, directory: Path, report: Report) -> None:
    """``add`` latency: one turn per call, local embedding included."""
    turns = turn_texts(rng, sizes.adds + ADD_WARMUP)
    threads = [f"thread-{rng.randrange(sizes.threads)}" for _ in range(sizes.adds)]
    warmup, measured = turns[:ADD_WARMUP], turns[ADD_WARMUP:]
    with MemoryClient(path=directory / "add.db") as client:
        for role, content in warmup:
            client.add(USER, "warm-up", role, content)
        items = list(zip(threads, measured, strict=True))
        seconds = time_each(lambda item: client.add(USER, item[0], item[1][0], item[1][1]), items)
    stats = summarize(seconds)
    report.rows.append(
        Row(
            "`add` (one turn, local embedding)",
            f"{sizes.adds:,} turns, 1 user, {sizes.threads} threads",
            stats,
            f"p50 ≤ {ADD_GOAL_MS:g} ms",
            yes_no(stats.p50 <= ADD_GOAL_MS),
        )
    )


def bench_search(sizes: Sizes, rng: random.Random, directory: Path, report: Report) -> None:
    """Hybrid ``search`` over ``sizes.search_memories`` memories inserted with ``add_memory``."""
    memories = memory_texts(rng, sizes.search_memories)
    queries = query_texts(rng, sizes.queries + 1)
    data = f"{sizes.search_memories:,} memories, 1 user"
    with MemoryClient(path=directory / "search.db") as client:
        items = [
            (f"thread-{rng.randrange(8)}", kind, text, round(rng.uniform(0.5, 1.0), 2))
            for kind, text in memories
        ]
        setup = time_each(
            lambda m: client.add_memory(USER, m[0], m[2], type=m[1], confidence=m[3]), items
        )
        client.search(USER, queries[0], top=TOP)
        seconds = time_each(lambda q: client.search(USER, q, top=TOP), queries[1:])
    report.rows.append(Row("`add_memory` (setup of the search set)", data, summarize(setup)))
    stats = summarize(seconds)
    report.rows.append(
        Row(
            f"`search` hybrid, top={TOP}",
            data,
            stats,
            f"p50 ≤ {SEARCH_GOAL_MS:g} ms",
            yes_no(stats.p50 <= SEARCH_GOAL_MS),
        )
    )


def load_large(
    client: MemoryClient, memories: Sequence[tuple[MemoryType, str]], rng: random.Random
) -> tuple[FloatMatrix, list[str]]:
    """Insert memories via ``store.create_memory``; return their normalised vectors and ids."""
    client.store.ensure_embedding_model(client.embedder.model, client.embedder.dimensions)
    matrix = np.zeros((len(memories), client.embedder.dimensions), dtype=np.float32)
    ids: list[str] = []
    for start in range(0, len(memories), EMBED_BATCH):
        batch = memories[start : start + EMBED_BATCH]
        vectors = client.embedder.embed([text for _, text in batch])
        matrix[start : start + len(batch)] = vectors
        for (kind, text), vector in zip(batch, vectors, strict=True):
            memory = Memory.create(
                user_id=USER,
                thread_id=f"thread-{rng.randrange(8)}",
                type=kind,
                content=text,
                confidence=round(rng.uniform(0.5, 1.0), 2),
            )
            if not client.store.create_memory(memory, vector):
                raise RuntimeError(f"memory not created: {text!r}")
            ids.append(memory.id)
    return normalize(matrix), ids


def bench_large(sizes: Sizes, rng: random.Random, directory: Path, report: Report) -> None:
    """Search at ``sizes.large_memories`` against a bare NumPy brute-force cosine top-10.

    The five variants run interleaved, query by query in a rotating order, so a background
    load spike hits them alike and the ratios stay comparable.
    """
    n = sizes.large_memories
    memories = memory_texts(rng, n)
    queries = query_texts(rng, sizes.queries)
    data = f"{n:,} memories, 1 user"
    with MemoryClient(path=directory / "large.db") as client:
        start = time.perf_counter()
        matrix, ids = load_large(client, memories, rng)
        report.notes.append(
            f"The {n:,}-memory set was inserted with `client.store.create_memory`, embeddings "
            f"from `client.embedder.embed` in batches of {EMBED_BATCH:,} "
            f"({time.perf_counter() - start:.2f} s); the {sizes.search_memories:,}-memory set "
            "with `client.add_memory`."
        )
        embed = client.embedder.embed
        query_vectors = normalize(embed(queries))

        first = time_each(lambda q: client.search(USER, q, top=TOP), ["warm-up"])
        for mode in MODES:
            client.search(USER, "warm-up", top=TOP, mode=mode)

        variants: dict[str, Callable[[int], object]] = {
            BARE: lambda i: bare_top(matrix, query_vectors[i], TOP),
            BARE_EMBED: lambda i: bare_top(matrix, normalize(embed([queries[i]]))[0], TOP),
        }
        for mode in MODES:
            variants[mode] = searcher(client, queries, mode)
        samples = interleaved(variants, len(queries))

        agree = 0
        for text, vector in zip(queries, query_vectors, strict=True):
            hits = {h.id for h in client.search(USER, text, top=TOP, mode="vector")}
            agree += len(hits & {ids[i] for i in bare_top(matrix, vector, TOP)})
        report.notes.append(
            f"Vector-mode `search` returned {agree / (TOP * len(queries)):.2%} of the bare "
            f"NumPy top-{TOP} ids over the {len(queries)} queries."
        )

    stats = {name: summarize(seconds) for name, seconds in samples.items()}
    bare, bare_embed = stats[BARE], stats[BARE_EMBED]
    for mode in MODES:
        product = stats[mode]
        report.ratios.append(
            Ratio(
                mode=mode,
                p50_bare=product.p50 / bare.p50,
                p50_bare_embed=product.p50 / bare_embed.p50,
                p95_bare=product.p95 / bare.p95,
                p95_bare_embed=product.p95 / bare_embed.p95,
            )
        )
        report.rows.append(Row(f"`search` {mode}, top={TOP}", data, product))
    report.rows.append(
        Row(f"bare NumPy cosine top-{TOP}, query vector given", f"{n:,} vectors", bare)
    )
    report.rows.append(
        Row(f"bare NumPy cosine top-{TOP} + query embedding", f"{n:,} vectors", bare_embed)
    )
    report.rows.append(
        Row("`search` hybrid, first call (loads the vector cache)", data, summarize(first))
    )


def searcher(
    client: MemoryClient, queries: Sequence[str], mode: SearchMode
) -> Callable[[int], object]:
    """A call running ``client.search`` in ``mode`` for query number ``i``."""
    return lambda i: client.search(USER, queries[i], top=TOP, mode=mode)


def interleaved(variants: dict[str, Callable[[int], object]], count: int) -> dict[str, list[float]]:
    """Wall time in seconds of each variant for items ``0..count-1``, rotating the order."""
    names = list(variants)
    samples: dict[str, list[float]] = {name: [] for name in names}
    clock = time.perf_counter
    for i in range(count):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            call = variants[name]
            begin = clock()
            call(i)
            samples[name].append(clock() - begin)
    return samples


# -- output -------------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def busy_cpu_seconds() -> float | None:
    """CPU seconds spent by every process since boot (Linux ``/proc/stat``), else None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if fields[0] != "cpu":
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this process, all threads."""
    return time.process_time()


def background_load(busy_before: float | None, own_before: float, wall: float) -> str:
    """Share of the machine's CPU that other processes used while the benchmark ran."""
    busy_after = busy_cpu_seconds()
    if busy_before is None or busy_after is None or wall <= 0:
        return "unknown"
    others = max(0.0, (busy_after - busy_before) - (own_cpu_seconds() - own_before))
    return f"{others / (wall * (os.cpu_count() or 1)):.0%}"


def machine() -> str:
    """One line describing where the numbers come from."""
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("numpy", "wordllama")
    )
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {versions}"
    )


def render(report: Report) -> str:
    """The results block as markdown."""
    run = "quick run (`--quick`)" if report.quick else "full run"
    lines = [
        f"Measured {date.today().isoformat()}, {run}, on {machine()}.",
        "",
        "| Benchmark | Data | Calls | p50 (ms) | p95 (ms) | mean (ms) | Goal | Met |",
        "|---|---|--:|--:|--:|--:|---|---|",
    ]
    for row in report.rows:
        s = row.stats
        lines.append(
            f"| {row.label} | {row.data} | {s.calls:,} | {s.p50:.2f} | {s.p95:.2f} | "
            f"{s.mean:.2f} | {row.goal} | {row.met} |"
        )
    lines += [
        "",
        f"Product `search` over bare NumPy at {report.sizes.large_memories:,} memories "
        f"(goal for the default hybrid search: ≤ {RATIO_GOAL:g}×):",
        "",
        "| `search` mode | p50 / bare | p50 / bare + embed | p95 / bare | p95 / bare + embed "
        "| Met (p50 / bare, p50 / bare + embed) |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for r in report.ratios:
        met = (
            f"{yes_no(r.p50_bare <= RATIO_GOAL)}, {yes_no(r.p50_bare_embed <= RATIO_GOAL)}"
            if r.mode == "hybrid"
            else ""
        )
        lines.append(
            f"| {r.mode} | {r.p50_bare:.2f}× | {r.p50_bare_embed:.2f}× | {r.p95_bare:.2f}× | "
            f"{r.p95_bare_embed:.2f}× | {met} |"
        )
    lines.append("")
    lines += [f"- {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def write_readme(path: Path, block: str) -> None:
    """Replace the text between the sdk_latency markers of ``path`` with ``block``."""
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition(BEGIN_MARKER)
    _, sep2, tail = rest.partition(END_MARKER)
    if not sep or not sep2:
        raise SystemExit(f"{path}: markers {BEGIN_MARKER} / {END_MARKER} not found")
    path.write_text(f"{head}{BEGIN_MARKER}\n{block}{END_MARKER}{tail}", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run (< 30 s)")
    parser.add_argument(
        "--write", action="store_true", help=f"replace the results block of {README.name}"
    )
    parser.add_argument("--readme", type=Path, default=README, help="README to update")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the text generator")
    args = parser.parse_args(argv)
    if args.quick and args.write:
        parser.error("--write records full runs only; drop --quick")

    sizes = QUICK if args.quick else FULL
    report = Report(sizes=sizes, quick=args.quick, rows=[], ratios=[], notes=[])
    busy_before, own_before = busy_cpu_seconds(), own_cpu_seconds()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="agent-memory-bench-") as tmp:
        directory = Path(tmp)
        for step in (bench_add, bench_search, bench_large):
            step_start = time.perf_counter()
            step(sizes, random.Random(f"{args.seed}-{step.__name__}"), directory, report)
            print(
                f"{step.__name__}: {time.perf_counter() - step_start:.2f} s",
                file=sys.stderr,
                flush=True,
            )
    wall = time.perf_counter() - started
    report.notes.append(
        "Each benchmark uses a fresh SQLite file in a temporary directory; the whole run took "
        f"{wall:.2f} s, while other processes used "
        f"{background_load(busy_before, own_before, wall)} of the machine's CPU."
    )
    block = render(report)
    print(block)
    if args.write:
        write_readme(args.readme, block)
        print(f"updated {args.readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
