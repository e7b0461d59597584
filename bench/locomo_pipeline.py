"""The whole memory pipeline on LoCoMo with a real local model (llama.cpp ``llama-server``).

For each chosen LoCoMo conversation (data under CC BY-NC 4.0, read from ``--data``, never
copied into this repository), on a fresh embedded store:

1. the turns of its first ``--sessions`` sessions are written with ``add_turns``, one thread per
   session, the dataset's ``dia_id`` as turn id, the session date as ``created_at`` and the
   speaker as ``metadata["name"]``. LoCoMo's two speakers are both people; the product has a
   user and an assistant. The **first speaker is the user** (role ``user``) and the second the
   other party (role ``assistant``), so the memories are about the first speaker;
   ``--as-user second`` swaps them and ``--as-user both`` runs each speaker in turn as the
   user (twice the model time), each as its own user id;
2. ``process_now`` runs the pipeline (extraction, reconcile, thread summaries, user profile)
   against the chat server, embeddings from the embedding server;
3. cost and behaviour are read from the usage ledger and the process report: model calls and
   tokens per 100 turns, wall time per turn, the share of calls whose answer was schema-valid,
   memories per turn by type, and the memories dropped by grounding and why;
4. each question (categories 1-4) whose evidence lies in the ingested sessions is searched:
   **memory mode** (memories only; a hit recalls the turns in its ``source_turn_ids``) next to
   **raw turns** (``include_turns=True``, turn hits in rank order), recall@5 and @10 of the
   evidence turns;
5. up to ``--qa`` of those questions are answered by the same local model reading (a) the top
   5 memories, (b) the top 5 raw turns, (c) both, scored with LoCoMo's token F1 (SQuAD-style
   normalisation: lower case, punctuation and articles removed; no stemming), per category.

Categories are LoCoMo's ids: 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop.
Conversations 0-4 are the dev split (prompt tuning), 5-9 the test split (the table).

The servers: ``scripts/local_model.py`` starts them (or reuses running ones) unless
``OPENAI_BASE_URL`` is already set, e.g.::

    python bench/locomo_pipeline.py --conversations 5 6 --sessions 1 --model 0.5b
    python bench/locomo_pipeline.py --conversations 5 6 7 8 9 --sessions 0   # whole conversations

``--json PATH`` also writes every figure as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import re
import string
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from openai import OpenAI
from pydantic import BaseModel, Field

from agent_memory import MemoryClient

ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_DATA: Final = ROOT.parent / "shared" / "data" / "locomo10.json"
CATEGORIES: Final = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
KS: Final = (5, 10)
READ_TOP: Final = 5
MEMORY_TYPES: Final = ("fact", "procedural", "episodic")
QA_SOURCES: Final = ("memories", "turns", "both")


def _load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


locomo = _load_module("bench_locomo", ROOT / "bench" / "locomo.py")
local_model = _load_module("local_model", ROOT / "scripts" / "local_model.py")
#: The grounding arithmetic of this tree, loaded by path so that ``--baseline-sdk`` runs (an
#: older SDK first on ``PYTHONPATH``) are audited with the same bars.
audit = _load_module("grounding_audit", ROOT / "sdk" / "agent_memory" / "pipeline" / "grounding.py")


# -- QA -------------------------------------------------------------------------------------


class Answer(BaseModel):
    """A short answer to a question about the conversation."""

    answer: str = Field(max_length=200, description="A few words; 'unknown' if not given.")


QA_SYSTEM: Final = """\
Answer the question about a conversation using only the context given as DATA below. Answer
with a few words (a name, a date, a place, a short phrase), not a sentence. If the context
does not say, answer "unknown".
"""


def normalize(text: str) -> list[str]:
    """SQuAD/LoCoMo normalisation: lower case, no punctuation, no articles, split on spaces."""
    text = text.lower().replace(",", " ")
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the|and)\b", " ", text)
    return text.split()


def token_f1(prediction: str, truth: str) -> float:
    """LoCoMo's token F1 of one answer."""
    pred, gold = normalize(prediction), normalize(truth)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def answer(chat: OpenAI, model: str, question: str, context: Sequence[str]) -> str:
    lines = "\n".join(f"- {c}" for c in context) or "(nothing)"
    completion = chat.chat.completions.parse(
        model=model,
        messages=[
            {"role": "system", "content": QA_SYSTEM},
            {"role": "user", "content": f"<context>\n{lines}\n</context>\n\nQ: {question}"},
        ],
        response_format=Answer,
        temperature=0,
        max_tokens=128,
    )
    parsed = completion.choices[0].message.parsed
    return parsed.answer if parsed else ""


# -- one run --------------------------------------------------------------------------------


@dataclass
class Figures:
    """What one conversation (one speaker as the user) measured."""

    conversation: int
    user_speaker: str
    turns: int = 0
    seconds: float = 0.0
    calls: int = 0
    ok_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    calls_by_step: dict[str, int] = field(default_factory=dict)
    memories: dict[str, int] = field(default_factory=dict)
    audit: dict[str, int] = field(default_factory=dict)
    ungrounded: dict[str, int] = field(default_factory=dict)
    kept_examples: list[str] = field(default_factory=list)
    dropped_summary_lines: dict[str, int] = field(default_factory=dict)
    profile: str = ""
    recall: dict[str, dict[str, float]] = field(default_factory=dict)
    questions: int = 0
    qa: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    qa_samples: list[dict[str, str]] = field(default_factory=list)


def _speakers(conv: Any) -> list[str]:
    seen: dict[str, None] = {}
    for session in conv.sessions:
        for turn in session.turns:
            seen[turn["metadata"]["name"]] = None
    return list(seen)


def run_one(
    conv: Any,
    sessions: Sequence[Any],
    user_speaker: str,
    env: dict[str, str],
    chat: OpenAI,
    qa_limit: int,
    answers: dict[str, str],
) -> Figures:
    figures = Figures(conv.index, user_speaker)
    user_id = f"{conv.user_id}-{re.sub(r'[^A-Za-z0-9]', '', user_speaker)[:20]}"
    with tempfile.TemporaryDirectory() as tmp:
        settings = {
            **env,
            "AGENT_MEMORY_PATH": str(Path(tmp) / "memory.db"),
            "FACT_EXTRACTION_EVERY_N": "100000",  # everything runs in process_now, timed
            "THREAD_SUMMARY_EVERY_N": "100000",
            "USER_SUMMARY_EVERY_N": "100000",
            "DEDUP_EVERY_N": "100000",
        }
        with MemoryClient.from_env(settings) as client:
            for session in sessions:
                turns = [
                    {**t, "role": "user" if t["metadata"]["name"] == user_speaker else "assistant"}
                    for t in session.turns
                ]
                client.add_turns(user_id, locomo.thread_of(session.number), turns)
                figures.turns += len(turns)
            started = time.perf_counter()
            report = client.process_now(user_id)
            figures.seconds = time.perf_counter() - started
            usage = client.usage(user_id)
            figures.calls, figures.input_tokens = usage.calls, usage.input_tokens
            figures.output_tokens, figures.calls_by_step = usage.output_tokens, usage.calls_by_step
            figures.ok_calls = sum(1 for r in usage.records if r.ok)
            memories = client.get_memories(user_id, limit=1000)
            figures.memories = dict(Counter(m.type for m in memories))
            figures.kept_examples = [f"{m.type}: {m.content}" for m in memories[:8]]
            figures.audit = _audit(memories, sessions)
            for result in report.extracted.values():
                for reason, n in getattr(result, "ungrounded", {}).items():
                    figures.ungrounded[reason] = figures.ungrounded.get(reason, 0) + n
            summaries = [*report.thread_summaries.values(), report.user_summary]
            for summary in summaries:
                for reason, n in getattr(summary, "ungrounded", {}).items():
                    figures.dropped_summary_lines[reason] = (
                        figures.dropped_summary_lines.get(reason, 0) + n
                    )
            profile = client.get_user_summary(user_id)
            figures.profile = profile.content if profile else ""
            ingested = {t["id"] for s in sessions for t in s.turns}
            questions = [q for q in conv.questions if set(q.evidence) <= ingested]
            figures.questions = len(questions)
            scores = {"memories": locomo.Score(), "turns": locomo.Score()}
            for q in questions:
                mem_hits = client.search(user_id, q.text, top=max(KS))
                turn_hits = [
                    h
                    for h in client.search(user_id, q.text, top=4 * max(KS), include_turns=True)
                    if h.turn is not None
                ][: max(KS)]
                scores["memories"].add(
                    q.category,
                    q.evidence,
                    [set(h.memory.source_turn_ids) for h in mem_hits if h.memory is not None],
                )
                scores["turns"].add(
                    q.category, q.evidence, [{h.turn.id} for h in turn_hits if h.turn is not None]
                )
                if len(figures.qa_samples) >= qa_limit:
                    continue
                mem_text = [h.memory.content for h in mem_hits[:READ_TOP] if h.memory]
                turn_text = [
                    f"{h.turn.metadata.get('name', h.turn.role)} "
                    f"({h.turn.created_at:%d %B %Y}): {h.turn.content}"
                    for h in turn_hits[:READ_TOP]
                    if h.turn is not None
                ]
                contexts = {
                    "memories": mem_text,
                    "turns": turn_text,
                    "both": [*mem_text, *turn_text],
                }
                truth = answers.get(q.text, "")
                sample = {"question": q.text, "truth": truth, "category": str(q.category)}
                for source, context in contexts.items():
                    got = answer(chat, env["OPENAI_CHAT_MODEL"], q.text, context)
                    f1 = token_f1(got, truth)
                    figures.qa.setdefault(source, {}).setdefault(str(q.category), []).append(f1)
                    sample[source] = got
                figures.qa_samples.append(sample)
            for kind, score in scores.items():
                figures.recall[kind] = {f"R@{k}": score.recall(k) for k in KS}
    return figures


def _audit(memories: Sequence[Any], sessions: Sequence[Any]) -> dict[str, int]:
    """Stored memories by what the lexical bars say of them against the prompt in use.

    ``copies``: more of the memory's words are in the extraction prompt than in its cited
    turns, and most are; ``weak``: under half its words are in its cited turns.
    """
    from agent_memory.core.prompts import extraction

    text = {
        t["id"]: f"{t['metadata']['name']}: {t['content']}\n{audit.date_forms(t['created_at'])}"
        for s in sessions
        for t in s.turns
    }
    out = {"stored": len(memories), "copies": 0, "weak": 0}
    for m in memories:
        cited = "\n".join(text.get(i, "") for i in m.source_turn_ids)
        lexical = audit.lexical_support(m.content, cited)
        prompt = audit.lexical_support(m.content, extraction.SYSTEM)
        if prompt > lexical and prompt >= audit.COPY_BAR:
            out["copies"] += 1
        elif lexical < audit.LEXICAL_BAR:
            out["weak"] += 1
    return out


# -- report ---------------------------------------------------------------------------------


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def render(runs: Sequence[Figures], model: str, sessions: int) -> str:
    turns = sum(r.turns for r in runs) or 1
    calls = sum(r.calls for r in runs)
    ok = sum(r.ok_calls for r in runs)
    tin, tout = sum(r.input_tokens for r in runs), sum(r.output_tokens for r in runs)
    seconds = sum(r.seconds for r in runs)
    memories: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    lines_dropped: Counter[str] = Counter()
    for r in runs:
        memories.update(r.memories)
        dropped.update(r.ungrounded)
        lines_dropped.update(r.dropped_summary_lines)
    kept = sum(memories.values())
    out = [
        f"Model `{model}` (llama-server, 1 thread), conversations "
        f"{', '.join(str(r.conversation) for r in runs)} (speaker as user: "
        f"{', '.join(r.user_speaker for r in runs)}), first {sessions or 'all'} session(s): "
        f"{turns} turns, {sum(r.questions for r in runs)} questions with evidence in them.",
        "",
        "| figure | value |",
        "|---|--:|",
        f"| model calls per 100 turns | {100 * calls / turns:.1f} |",
        f"| prompt tokens per 100 turns | {100 * tin / turns:,.0f} |",
        f"| generated tokens per 100 turns | {100 * tout / turns:,.0f} |",
        f"| pipeline wall time per turn (s) | {seconds / turns:.1f} |",
        f"| schema-valid answers | {ok}/{calls} ({100 * ok / max(calls, 1):.0f}%) |",
    ]
    for kind in MEMORY_TYPES:
        out.append(f"| {kind} memories per turn | {memories.get(kind, 0) / turns:.3f} |")
    audited: Counter[str] = Counter()
    for r in runs:
        audited.update(r.audit)
    out.append(f"| memories kept / dropped by grounding | {kept} / {sum(dropped.values())} |")
    out.append(f"| stored memories that copy the prompt (lexical audit) | {audited['copies']} |")
    out.append(f"| stored memories under half supported by cited turns | {audited['weak']} |")
    for reason, n in sorted(dropped.items()):
        out.append(f"| &nbsp;&nbsp;dropped as `{reason}` | {n} |")
    for reason, n in sorted(lines_dropped.items()):
        out.append(f"| summary lines dropped as `{reason}` | {n} |")
    out += ["", "| retrieval of evidence turns | R@5 | R@10 |", "|---|--:|--:|"]
    for kind, label in (("memories", "memory mode (via provenance)"), ("turns", "raw turns")):
        r5 = _mean([r.recall[kind]["R@5"] for r in runs if r.questions])
        r10 = _mean([r.recall[kind]["R@10"] for r in runs if r.questions])
        out.append(f"| {label} | {r5:.3f} | {r10:.3f} |")
    out += [
        "",
        "| QA token F1 (reader = same model) | "
        + " | ".join(CATEGORIES[c] for c in CATEGORIES)
        + " | all | n |",
        "|---|" + "--:|" * (len(CATEGORIES) + 2),
    ]
    for source in QA_SOURCES:
        cells, every = [], []
        for cat in CATEGORIES:
            values = [v for r in runs for v in r.qa.get(source, {}).get(str(cat), [])]
            every += values
            cells.append(f"{_mean(values):.3f} ({len(values)})" if values else "—")
        out.append(f"| top {READ_TOP} {source} | " + " | ".join(cells) + f" | {_mean(every):.3f} |")
        out[-1] += f" {len(every)} |"
    return "\n".join(out)


@contextlib.contextmanager
def servers(model: str) -> Iterator[dict[str, str]]:
    if os.environ.get("OPENAI_BASE_URL"):
        yield {k: v for k, v in os.environ.items() if k.startswith(("OPENAI_", "AGENT_", "EMB"))}
        return
    with local_model.servers_for(model) as running:
        yield running.environment()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--conversations", type=int, nargs="+", default=[5, 6])
    parser.add_argument("--sessions", type=int, default=1, help="first N sessions; 0 = all")
    parser.add_argument("--as-user", choices=["first", "second", "both"], default="first")
    parser.add_argument("--qa", type=int, default=12, help="questions answered per run")
    parser.add_argument("--model", choices=local_model.CHAT_MODELS, default="0.5b")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"LoCoMo data not found at {args.data} (pass --data)", file=sys.stderr)
        return 2
    conversations = locomo.load(args.data)
    raw = json.loads(args.data.read_text(encoding="utf-8"))
    runs: list[Figures] = []
    with servers(args.model) as env:
        chat = OpenAI(base_url=env["OPENAI_BASE_URL"], api_key=env.get("OPENAI_API_KEY", "x"))
        for index in args.conversations:
            conv = conversations[index]
            chosen = conv.sessions[: args.sessions] if args.sessions else conv.sessions
            speakers = _speakers(conv)
            who = {"first": speakers[:1], "second": speakers[1:2], "both": speakers[:2]}
            for speaker in who[args.as_user]:
                answers = {
                    str(qa["question"]): str(qa.get("answer", "")) for qa in raw[index]["qa"]
                }
                figures = run_one(conv, chosen, speaker, env, chat, args.qa, answers)
                runs.append(figures)
                print(
                    f"[conv {index} as {speaker}] {figures.turns} turns, "
                    f"{figures.seconds:.0f} s, memories {figures.memories}, "
                    f"dropped {figures.ungrounded}",
                    file=sys.stderr,
                    flush=True,
                )
        model = env["OPENAI_CHAT_MODEL"]
    print(render(runs, model, args.sessions))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in runs], indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
