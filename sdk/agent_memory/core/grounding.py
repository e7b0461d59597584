"""Grounding: keep only what the conversation said, drop copies of the prompt.

A model can answer with its prompt's examples or instructions instead of the transcript (a small
model does so readily). Every extracted memory and every summary line is therefore checked
against the text it stands on — the turns a memory cites, the memories and thread overviews a
profile is written from — and against the prompt's own wording, before anything is stored.

A claim is judged by two supports, both in ``[0, 1]``:

- **lexical**: the share of the claim's content words (lower-cased, stop words and subject words
  such as "user" removed, cut to a 5-letter stem so "allergic" meets "allergy") that occur in the
  sources. Turn sources include their date in several spellings, so a resolved date ("on
  2023-05-07", "May 2023") is supported by the turn's timestamp.
- **semantic**: the cosine similarity of the claim's embedding to the closest source, against
  its similarity to the closest prompt example (the same embedder, so the comparison does not
  depend on the embedder's scale).

Verdicts (first match wins):

1. ``"prompt_copy"``: more of the claim's words come from the prompt than from the sources and
   either most of them do (:data:`COPY_BAR`) or at least :data:`LEXICAL_FLOOR` do and the
   claim is semantically closer to a prompt example than to any source.
2. ``"unsupported"``: lexical support below :data:`LEXICAL_BAR`, unless it reaches
   :data:`LEXICAL_FLOOR` and the claim is semantically closer to a source than to every prompt
   example by :data:`SEMANTIC_MARGIN`.
3. otherwise kept.

The bars are calibrated by ``bench/grounding_calibration.py`` on LoCoMo's human-written
observations (paraphrased memories with their evidence turns): they keep 97.8% of
observations against their own evidence, 0.2% against another conversation's turns and none
of the prompt's examples (figures in ``bench/README.md``, "Grounding").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from agent_memory.core.models import Turn

Reason = Literal["prompt_copy", "unsupported"]

#: Minimum share of a claim's content words found in its sources, on its own.
LEXICAL_BAR: Final = 0.5
#: Minimum share when the embedding also says the claim is about its sources.
LEXICAL_FLOOR: Final = 0.25
#: How much closer (cosine) a claim must be to a source than to any prompt example.
SEMANTIC_MARGIN: Final = 0.02
#: Share of a claim's content words found in the prompt that marks a copy.
COPY_BAR: Final = 0.6
STEM: Final = 5

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOP: Final = frozenset(
    """a an the and or but if then than that this these those there here of to in on at by for
    with from as into onto about over under after before during since until up down out off
    is are was were be been being am do does did done have has had having will would shall
    should can could may might must not no nor so too very just also only even still yet
    again ever never always often sometimes it its it's they them their theirs he him his she
    her hers we us our ours you your yours i me my mine who whom whose which what when where
    why how all any both each few more most other some such own same one ones s t d ll re ve
    m user users user's assistant assistants speaker their's per via""".split()
)


def _stems(text: str) -> set[str]:
    words = (w.lower() for w in _WORD.findall(text))
    return {w[:STEM] for w in words if w not in _STOP}


def date_forms(moment: datetime) -> str:
    """A timestamp spelled the ways a resolved date may be written (ISO, month and day names)."""
    return " ".join(
        [
            moment.strftime("%Y-%m-%d"),
            moment.strftime("%Y %B %d %A %b"),
            str(moment.day),
            str(moment.month),
        ]
    )


def lexical_support(claim: str, source: str) -> float:
    """Share of ``claim``'s content stems present in ``source`` (1.0 for a claim without any)."""
    words = _stems(claim)
    if not words:
        return 1.0
    return len(words & _stems(source)) / len(words)


@dataclass(frozen=True)
class PromptText:
    """What a prompt could leak: its whole instruction text and its example outputs."""

    instructions: str
    examples: tuple[str, ...]


@dataclass
class Verdict:
    """The judgement of one claim; ``reason`` is None when it is kept."""

    lexical: float
    prompt_lexical: float
    semantic: float
    prompt_semantic: float
    reason: Reason | None


@dataclass
class Judgement:
    """Verdicts for a list of claims, the indexes kept, and the drops counted by reason."""

    verdicts: list[Verdict]
    claim_vectors: npt.NDArray[np.float32]

    @property
    def kept(self) -> list[int]:
        return [i for i, v in enumerate(self.verdicts) if v.reason is None]

    @property
    def dropped(self) -> dict[str, int]:
        return dict(Counter(v.reason for v in self.verdicts if v.reason is not None))


@dataclass
class Check:
    """Claims with their sources, ready to embed once and judge.

    ``sources[i]`` are the texts claim ``i`` stands on. Embed :attr:`texts` with the pipeline's
    embedder (one request) and pass the rows to :meth:`judge`.
    """

    claims: Sequence[str]
    sources: Sequence[Sequence[str]]
    prompt: PromptText
    _unique: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if len(self.claims) != len(self.sources):
            raise ValueError("one list of sources per claim")
        seen: dict[str, None] = {}
        for group in self.sources:
            seen.update(dict.fromkeys(group))
        self._unique = list(seen)

    @property
    def texts(self) -> list[str]:
        """Claims, then each distinct source, then the prompt's examples."""
        if not self.claims:
            return []
        return [*self.claims, *self._unique, *self.prompt.examples]

    def judge(self, vectors: npt.NDArray[np.float32] | Sequence[Sequence[float]]) -> Judgement:
        """Verdicts given the embeddings of :attr:`texts`, in that order."""
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(self.texts), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        unit = matrix / np.where(norms == 0, 1, norms)
        n, m = len(self.claims), len(self._unique)
        claims, sources, examples = unit[:n], unit[n : n + m], unit[n + m :]
        row = {text: i for i, text in enumerate(self._unique)}
        verdicts = []
        for i, (claim, group) in enumerate(zip(self.claims, self.sources, strict=True)):
            idx = [row[text] for text in group]
            semantic = float(np.max(sources[idx] @ claims[i])) if idx else 0.0
            prompt_semantic = float(np.max(examples @ claims[i])) if len(examples) else -1.0
            lexical = lexical_support(claim, "\n".join(group))
            prompt_lexical = lexical_support(
                claim, "\n".join([self.prompt.instructions, *self.prompt.examples])
            )
            verdicts.append(
                Verdict(
                    lexical=lexical,
                    prompt_lexical=prompt_lexical if _stems(claim) else 0.0,
                    semantic=semantic,
                    prompt_semantic=prompt_semantic,
                    reason=_reason(lexical, prompt_lexical, semantic, prompt_semantic, claim),
                )
            )
        return Judgement(verdicts, matrix[:n])


def _reason(
    lexical: float, prompt_lexical: float, semantic: float, prompt_semantic: float, claim: str
) -> Reason | None:
    if not _stems(claim):
        return "unsupported"
    closer_to_prompt = prompt_lexical >= LEXICAL_FLOOR and prompt_semantic > semantic
    if prompt_lexical > lexical and (prompt_lexical >= COPY_BAR or closer_to_prompt):
        return "prompt_copy"
    if lexical >= LEXICAL_BAR:
        return None
    if lexical >= LEXICAL_FLOOR and semantic >= prompt_semantic + SEMANTIC_MARGIN:
        return None
    return "unsupported"


def merge_counts(into: dict[str, int], more: dict[str, int]) -> None:
    """Add ``more``'s counts to ``into`` (both reason -> count)."""
    for reason, count in more.items():
        into[reason] = into.get(reason, 0) + count


def turn_text(turn: Turn) -> str:
    """A turn as a grounding source: speaker name, text and its date in several spellings."""
    speaker = turn.metadata.get("name")
    prefix = f"{speaker}: " if isinstance(speaker, str) else ""
    return f"{prefix}{turn.content}\n{date_forms(turn.created_at)}"


@dataclass
class LinesCheck:
    """The lines of a structured summary, each checked against all of ``sources``.

    ``fields`` is the output's ``model_dump()``; the lists named in ``list_fields`` lose their
    ungrounded lines. The ``overview`` string and the lists named in ``labels`` (syntheses and
    topic labels, whose words need not occur in the sources) lose only copies of the prompt.
    """

    fields: dict[str, Any]
    list_fields: Sequence[str]
    sources: Sequence[str]
    prompt: PromptText
    labels: Sequence[str] = ()
    check: Check = field(init=False)
    _where: list[tuple[str, int]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        claims: list[str] = []
        overview = self.fields.get("overview")
        if isinstance(overview, str) and overview.strip():
            claims.append(overview)
            self._where.append(("overview", -1))
        for name in self.list_fields:
            for index, line in enumerate(self.fields.get(name) or []):
                claims.append(str(line))
                self._where.append((name, index))
        sources = list(self.sources)
        self.check = Check(claims, [sources] * len(claims), self.prompt)

    @property
    def texts(self) -> list[str]:
        """What to embed, in order (see :attr:`Check.texts`)."""
        return self.check.texts

    def apply(
        self, vectors: npt.NDArray[np.float32] | Sequence[Sequence[float]]
    ) -> tuple[dict[str, Any], dict[str, int]]:
        """The fields without their ungrounded lines, and the drops by reason."""
        if not self.check.claims:
            return dict(self.fields), {}
        judgement = self.check.judge(vectors)
        out = {k: (list(v) if k in self.list_fields else v) for k, v in self.fields.items()}
        dropped: dict[str, int] = {}
        drop: dict[str, set[int]] = {}
        for (name, index), verdict in zip(self._where, judgement.verdicts, strict=True):
            lenient = name == "overview" or name in self.labels
            if verdict.reason is None or (lenient and verdict.reason != "prompt_copy"):
                continue
            merge_counts(dropped, {verdict.reason: 1})
            if name == "overview":
                out["overview"] = ""
                continue
            drop.setdefault(name, set()).add(index)
        for name, indexes in drop.items():
            out[name] = [line for i, line in enumerate(out[name]) if i not in indexes]
        return out, dropped
