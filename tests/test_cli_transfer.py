"""``agent-memory export`` / ``import`` move all of a user's data: the installed script, run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent_memory import MemoryClient
from agent_memory.core.models import Summary, utcnow
from tests.test_cli import cli, ok, one_line_error

#: Memory fields an import sets anew (the store's clock and the pipeline's prompt version).
RESTAMPED = ("created_at", "updated_at", "superseded_at", "prompt_version")


def _seed(db: Path) -> None:
    """A user with turns, memories (one superseded), a thread summary and a profile."""
    with MemoryClient(path=db) as memory:
        turns = memory.add_turns(
            "erin",
            "t1",
            [
                {"id": "e1", "role": "user", "content": "I am vegetarian."},
                {"id": "e2", "role": "user", "content": "I eat fish now."},
            ],
        )
        old = memory.add_memory(
            "erin", "t1", "Erin is vegetarian.", source_turn_ids=["e1"], tags=["diet"]
        )
        new = memory.add_memory("erin", "t1", "Erin eats fish.", confidence=0.8)
        memory.add_memory(
            "erin",
            "t1",
            "Cooking for guests went well with a menu planned ahead.",
            type="episodic",
            situation="guests",
            action="planned",
            outcome="went well",
        )
        memory.add_memory("erin", "t1", "Ask before suggesting meat.", type="procedural")
        assert memory.store.supersede("erin", old.id, by=new.id, reason="contradict")
        memory._prepare()
        for summary in (
            Summary(
                user_id="erin",
                thread_id="t1",
                kind="thread",
                content="Erin changed diet.",
                covers_up_to=turns[-1].seq or 0,
                updated_at=utcnow(),
            ),
            Summary(
                user_id="erin",
                kind="user",
                content="Erin eats fish.",
                fields={"diet": "pescatarian"},
                updated_at=utcnow(),
            ),
        ):
            memory.store.put_summary(summary, memory.embedder.embed([summary.content])[0])


def _records(path: Path, kind: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [r for r in lines if r["record"] == kind]


def _memories(path: Path) -> list[dict[str, Any]]:
    found = [{k: v for k, v in r.items() if k not in RESTAMPED} for r in _records(path, "memory")]
    return sorted(found, key=lambda m: m["id"])


def test_export_forget_import_restores_memories_and_summaries(tmp_path: Path) -> None:
    _seed(tmp_path / "m.db")
    db = ("--path", "m.db")
    ok(cli(*db, "export", "erin", "-o", "before.jsonl", cwd=tmp_path))
    ok(cli(*db, "forget", "erin", "--yes", cwd=tmp_path))
    out = ok(cli(*db, "import", "before.jsonl", cwd=tmp_path))
    assert out.splitlines()[0] == (
        "imported 2 new turns (0 already present) into 1 threads, 4 memories, 2 summaries"
    )
    ok(cli(*db, "export", "erin", "-o", "after.jsonl", cwd=tmp_path))
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    assert _memories(after) == _memories(before)
    assert any(m["superseded_by"] for m in _memories(after))
    assert _records(after, "summary") == _records(before, "summary")
    turns = [(t["id"], t["content"], t["created_at"]) for t in _records(after, "turn")]
    assert turns == [(t["id"], t["content"], t["created_at"]) for t in _records(before, "turn")]
    again = ok(cli(*db, "import", "after.jsonl", "--json", cwd=tmp_path))
    assert json.loads(again)["turns_present"] == 2  # exported ids: a re-run writes nothing new
    ok(cli(*db, "export", "erin", "-o", "again.jsonl", cwd=tmp_path))
    assert _memories(tmp_path / "again.jsonl") == _memories(before)


def test_unknown_keys_and_records_reject_the_whole_file(tmp_path: Path) -> None:
    good = json.dumps({"role": "user", "content": "kept out", "id": "g1"})
    cases = {
        "extra.jsonl": [good, json.dumps({"role": "user", "content": "x", "colour": "red"})],
        "record.jsonl": [good, json.dumps({"record": "note", "content": "x"})],
        "memory.jsonl": [good, json.dumps({"record": "memory", "content": "x"})],
    }
    for name, lines in cases.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n")
        args = ("--path", "c.db", "import", name, "--user", "u", "--thread", "t")
        err = one_line_error(cli(*args, cwd=tmp_path), 2)
        assert "line 2" in err, err
        assert not (tmp_path / "c.db").exists()
    args = ("--path", "c.db", "import", "extra.jsonl", "--user", "u", "--thread", "t")
    assert "colour" in one_line_error(cli(*args, cwd=tmp_path), 2)


def test_adding_a_known_turn_id_says_it_is_unchanged(tmp_path: Path) -> None:
    db = ("--path", "m.db")
    first = ok(cli(*db, "add", "u", "t", "user", "hi", "--turn-id", "x1", cwd=tmp_path))
    assert first.startswith("added x1")
    out = ok(cli(*db, "add", "u", "t", "user", "other", "--turn-id", "x1", cwd=tmp_path))
    assert "added" not in out and "x1 already exists" in out and "unchanged" in out
    listed = json.loads(ok(cli(*db, "turns", "list", "u", "t", "--json", cwd=tmp_path)))
    assert [t["content"] for t in listed] == ["hi"]


def test_an_interrupted_import_says_what_it_wrote(tmp_path: Path) -> None:
    import os
    import pty
    import re
    import signal
    import subprocess

    from tests.test_cli import SCRIPT, environment

    total = 5000
    lines = (
        json.dumps({"id": f"k{i}", "role": "user", "content": f"turn {i}"}) for i in range(total)
    )
    (tmp_path / "talk.jsonl").write_text("\n".join(lines))
    args = ("--path", "m.db", "import", "talk.jsonl", "--user", "u", "--thread", "t")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [SCRIPT, *args], stdout=subprocess.PIPE, stderr=slave, cwd=tmp_path, env=environment()
    )
    os.close(slave)
    shown = os.read(master, 65536).decode()  # the progress bar: turns are being written
    assert "importing [" in shown, shown
    proc.send_signal(signal.SIGINT)
    proc.wait(120)
    while "interrupted" not in shown or not shown.endswith("\n"):
        shown += os.read(master, 65536).decode()
    os.close(master)
    assert proc.returncode == 130
    message = shown.splitlines()[-1]
    found = re.fullmatch(r"interrupted: (\d+) turns and 0 memories written; re-running .*", message)
    assert found is not None, message
    written = int(found[1])
    assert written < total
    again = json.loads(ok(cli(*args, "--json", cwd=tmp_path)))
    assert (again["turns_present"], again["turns"]) == (written, total - written)


def test_export_never_clobbers_the_store_or_an_existing_file_it_did_not_finish(
    tmp_path: Path,
) -> None:
    db = tmp_path / "m.db"
    ok(cli("--path", str(db), "add", "bob", "t1", "user", "I keep bees.", cwd=tmp_path))
    before = db.read_bytes()
    error = one_line_error(cli("--path", str(db), "export", "bob", "-o", str(db), cwd=tmp_path), 2)
    assert "store's own file" in error and db.read_bytes() == before
    kept = tmp_path / "keep.jsonl"
    kept.write_text("old export\n", encoding="utf-8")
    one_line_error(cli("--path", str(db), "export", "e\u0301", "-o", str(kept), cwd=tmp_path), 2)
    assert kept.read_text(encoding="utf-8") == "old export\n"
    ok(cli("--path", str(db), "export", "bob", "-o", str(kept), cwd=tmp_path))
    assert _records(kept, "turn")[0]["content"] == "I keep bees."
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []


def test_a_file_that_is_not_utf8_is_rejected_and_a_bom_is_not(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    ok(cli("--path", str(db), "add", "bob", "t1", "user", "hello", cwd=tmp_path))
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b'{"role": "user", "content": "hi"}\n\xff\xfe\n')
    args = ("--path", str(db), "import", str(binary), "--user", "u", "--thread", "t")
    assert "not UTF-8" in one_line_error(cli(*args, cwd=tmp_path), 2)
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes('\ufeff{"role": "user", "content": "hi"}\n'.encode())
    ok(cli("--path", str(db), "import", str(bom), "--user", "u", "--thread", "t", cwd=tmp_path))
