"""The embedded store's per-user vector files stay consistent with the database.

A store that searches a user writes the user's vectors to ``<db>-vectors-<hash>``; a store
opened later (another process, or another instance here: its own connections and cache) maps
that file instead of reading every embedding. Whatever other connections do in between —
append, supersede, reactivate with a new vector, forget, purge — search returns what the
database holds, and nothing deleted stays in the files.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt

from agent_memory import SqliteStore
from agent_memory.core.models import Memory, Turn
from agent_memory.core.query import SearchQuery, normalize_rows
from agent_memory.stores.sqlite.schema import SCHEMA_VERSION
from agent_memory.stores.sqlite.vector_files import Header, VectorFiles
from tests.conftest import FakeClock

USER, OTHER = "ada", "bob"
DIMS = 8


def basis(i: int) -> list[float]:
    vector = [0.0] * DIMS
    vector[i] = 1.0
    return vector


def open_store(path: Path, clock: FakeClock) -> SqliteStore:
    store = SqliteStore(path, clock=clock)
    store.ensure_embedding_model("test-embedder", DIMS)
    return store


def memory(content: str, *, user: str = USER, thread: str = "t1", ttl: int | None = None) -> Memory:
    return Memory.create(user_id=user, thread_id=thread, type="fact", content=content, ttl=ttl)


def seed(store: SqliteStore, user: str = USER, count: int = 4) -> list[Memory]:
    made = [memory(f"{user} fact number {i}", user=user) for i in range(count)]
    for i, item in enumerate(made):
        assert store.create_memory(item, basis(i))
    return made


def nearest(store: SqliteStore, vector: list[float], user: str = USER) -> list[str]:
    query = SearchQuery(text="", vector=vector, top=3, mode="vector", min_similarity=0.5)
    return [h.memory.content for h in store.search(user, query) if h.memory is not None]


def vector_files(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if p.name.startswith(f"{path.name}-vectors-"))


def searched(tmp_path: Path, clock: FakeClock) -> tuple[Path, SqliteStore, list[Memory]]:
    """A store holding four memories of the user, searched once (so the file is written)."""
    path = tmp_path / "m.db"
    store = open_store(path, clock)
    made = seed(store)
    nearest(store, basis(0))
    assert len(vector_files(path)) == 1
    return path, store, made


def is_mapped(store: SqliteStore, user: str = USER) -> bool:
    """Whether the store's index of the user is the read-only mapping of the file."""
    return not store._vector_rows(user, "memories", DIMS).matrix.flags.writeable


def test_a_new_store_maps_the_vectors_the_first_one_wrote(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "m.db"
    first = open_store(path, clock)
    made = seed(first)
    assert nearest(first, basis(1)) == [made[1].content]
    assert len(vector_files(path)) == 1
    second = open_store(path, clock)
    assert is_mapped(second)
    assert nearest(second, basis(2)) == [made[2].content]
    first.close()
    second.close()


def test_rows_appended_after_the_file_was_written_are_read_and_added_to_it(
    tmp_path: Path, clock: FakeClock
) -> None:
    path, first, _ = searched(tmp_path, clock)
    writer = open_store(path, clock)
    late = memory("a fact written by another connection")
    writer.create_memory(late, basis(5))
    assert nearest(first, basis(5)) == [late.content]  # the warm cache catches up
    third = open_store(path, clock)
    assert nearest(third, basis(5)) == [late.content]  # the file's rows plus the new one
    opened = VectorFiles(path).open(USER, "memories", DIMS, third.user_epoch(USER), 0)
    assert opened is not None and opened[0].rows == 5  # the file now holds the new row
    for store in (first, writer, third):
        store.close()


def test_a_supersede_elsewhere_hides_the_memory_and_keeps_the_file(
    tmp_path: Path, clock: FakeClock
) -> None:
    path, first, made = searched(tmp_path, clock)
    before = vector_files(path)[0].read_bytes()
    other = open_store(path, clock)
    assert other.supersede(USER, made[1].id, by="newer", reason="contradict")
    assert nearest(first, basis(1)) == []
    fresh = open_store(path, clock)
    assert nearest(fresh, basis(1)) == []
    assert is_mapped(fresh)
    assert vector_files(path)[0].read_bytes() == before
    for store in (first, other, fresh):
        store.close()


def test_a_memory_reactivated_with_a_new_vector_is_not_found_by_its_old_one(
    tmp_path: Path, clock: FakeClock
) -> None:
    path, first, made = searched(tmp_path, clock)
    first.supersede(USER, made[1].id, by="newer", reason="contradict")
    other = open_store(path, clock)
    assert other.create_memory(made[1], basis(6))  # said again: reactivated, new vector
    assert vector_files(path) == []  # the stale file went with the commit
    for store in (first, open_store(path, clock)):
        assert nearest(store, basis(6)) == [made[1].content]
        assert nearest(store, basis(1)) == []
    assert len(vector_files(path)) == 1  # written again from the database
    fresh = open_store(path, clock)
    assert is_mapped(fresh) and nearest(fresh, basis(6)) == [made[1].content]
    for store in (first, other, fresh):
        store.close()


def unit(values: list[float]) -> npt.NDArray[np.float32]:
    return np.asarray([values], dtype=np.float32)


def test_forget_erases_the_users_file_and_keeps_the_others(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "m.db"
    store = open_store(path, clock)
    secret = [0.11, 0.22, 0.33, 0.44, 0.55, 0.66, 0.77, 0.88]
    store.create_memory(memory("ada keeps a secret vector"), secret)
    seed(store, OTHER)
    nearest(store, secret)
    nearest(store, basis(0), OTHER)
    files = VectorFiles(path)
    mine, theirs = files.path(USER, "memories"), files.path(OTHER, "memories")
    assert mine.exists() and theirs.exists()
    with mine.open("rb") as held:  # a handle open across the forget still reads the inode
        store.forget(USER)
        left = held.read()
    assert not mine.exists() and theirs.exists()
    assert left.strip(b"\0") == b""  # overwritten with zeros before it was deleted
    stored = normalize_rows(unit(secret)).tobytes()
    data = b"".join(p.read_bytes() for p in path.parent.iterdir() if p.is_file())
    assert stored not in data
    fresh = open_store(path, clock)
    assert nearest(fresh, secret) == [] and nearest(fresh, basis(0), OTHER) != []
    store.close()
    fresh.close()


def test_forgetting_a_thread_and_purging_expired_memories_erase_the_file(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "m.db"
    store = open_store(path, clock)
    kept = memory("ada fact in the kept thread", thread="kept")
    store.create_memory(kept, basis(0))
    store.create_memory(memory("ada fact in a thread to forget", thread="gone"), basis(1))
    store.create_memory(memory("ada fact that expires", ttl=60), basis(2))
    nearest(store, basis(0))
    target = VectorFiles(path).path(USER, "memories")
    with target.open("rb") as held:
        store.forget(USER, thread_id="gone")
        assert held.read().strip(b"\0") == b""
    assert nearest(open_store(path, clock), basis(1)) == []
    assert nearest(store, basis(2)) == ["ada fact that expires"]
    with target.open("rb") as held:
        clock.advance(seconds=120)
        assert store.purge_expired() == 1
        assert held.read().strip(b"\0") == b""
    assert not target.exists()
    fresh = open_store(path, clock)
    assert nearest(fresh, basis(2)) == [] and nearest(fresh, basis(0)) == [kept.content]
    store.close()
    fresh.close()


def test_a_damaged_file_is_ignored_and_written_again(tmp_path: Path, clock: FakeClock) -> None:
    path, store, made = searched(tmp_path, clock)
    target = vector_files(path)[0]
    target.write_bytes(target.read_bytes()[:5000])  # cut short
    fresh = open_store(path, clock)
    assert nearest(fresh, basis(3)) == [made[3].content]
    target.write_bytes(b"not a vector file")
    again = open_store(path, clock)
    assert nearest(again, basis(2)) == [made[2].content]
    assert is_mapped(open_store(path, clock))  # rewritten whole
    for s in (store, fresh, again):
        s.close()


def test_a_writer_whose_snapshot_is_no_longer_current_writes_nothing(tmp_path: Path) -> None:
    files = VectorFiles(tmp_path / "m.db")
    header = Header(dims=DIMS, rows=1, max_seq=1, epoch="e", generation=0)
    columns = {
        "seq": np.array([1]),
        "type_code": np.array([0], dtype=np.int8),
        "confidence": np.array([1.0], dtype=np.float32),
        "expires": np.array([np.inf]),
        "thread": np.array(["t1"], dtype=object),
        "prev": np.array([-1]),
        "next": np.array([-1]),
        "matrix": unit(basis(0)),
    }
    files.write(USER, "memories", header, columns, lambda: False)
    assert not files.path(USER, "memories").exists()
    files.write(USER, "memories", header, columns, lambda: True)
    assert files.open(USER, "memories", DIMS, "e", 0) is not None
    assert files.open(USER, "memories", DIMS, "e", 1) is None  # another generation
    assert files.open(USER, "memories", DIMS, "other epoch", 0) is None


CHILD = """
import sys
from agent_memory import SqliteStore
from agent_memory.core.models import Memory
store = SqliteStore(sys.argv[1])
late = Memory.create(user_id="ada", thread_id="t1", type="fact", content="from the child")
store.create_memory(late, [0.0] * 7 + [1.0])
store.supersede("ada", sys.argv[2], by="child", reason="contradict")
store.close()
"""


def test_another_process_writing_is_seen_by_warm_and_new_stores(
    tmp_path: Path, clock: FakeClock
) -> None:
    path, warm, made = searched(tmp_path, clock)
    subprocess.run([sys.executable, "-c", CHILD, str(path), made[0].id], check=True, timeout=60)
    fresh = open_store(path, clock)
    for store in (warm, fresh):
        assert nearest(store, basis(7)) == ["from the child"]
        assert nearest(store, basis(0)) == []
    warm.close()
    fresh.close()


def test_a_store_of_the_previous_schema_gains_the_vector_generation(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "m.db"
    store = open_store(path, clock)
    made = seed(store)
    store.close()
    db = sqlite3.connect(path)  # the schema-4 file: no vector generation per user
    db.execute("ALTER TABLE user_state DROP COLUMN vectors")
    db.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    upgraded = open_store(path, clock)
    assert upgraded._meta_int("schema_version") == SCHEMA_VERSION
    assert nearest(upgraded, basis(1)) == [made[1].content]
    assert is_mapped(open_store(path, clock))
    upgraded.close()


def turn(thread: str, i: int, clock: FakeClock) -> Turn:
    return Turn(
        id=f"{thread}-{i}",
        user_id=USER,
        thread_id=thread,
        role="user",
        content=f"turn {i} of {thread}",
        created_at=clock(),
    )


def test_turn_neighbours_survive_the_file_and_link_to_later_turns(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "m.db"
    store = open_store(path, clock)
    for i in range(3):
        for thread in ("a", "b"):
            store.append_turns(USER, thread, [turn(thread, i, clock)], [basis(i)])
    written = store._vector_rows(USER, "turns", DIMS)
    mapped = open_store(path, clock)
    rows = mapped._vector_rows(USER, "turns", DIMS)
    assert not rows.matrix.flags.writeable
    for column in ("seq", "prev", "next", "thread"):
        assert list(getattr(rows, column)) == list(getattr(written, column)), column
    store.append_turns(USER, "a", [turn("a", 3, clock)], [basis(3)])
    grown = mapped._vector_rows(USER, "turns", DIMS)
    last_of_a = int(np.flatnonzero(rows.thread == "a")[-1])
    assert int(grown.prev[-1]) == last_of_a and int(grown.next[last_of_a]) == len(grown) - 1
    store.close()
    mapped.close()


def test_a_store_with_vector_files_off_still_erases_them_on_forget(
    tmp_path: Path, clock: FakeClock
) -> None:
    path, store, _ = searched(tmp_path, clock)
    assert vector_files(path)
    plain = SqliteStore(path, clock=clock, vector_files=False)
    assert nearest(plain, basis(1)) != [] and plain._vector_rows(USER, "memories", DIMS)
    plain.forget(USER)
    assert vector_files(path) == []
    store.close()
    plain.close()


def test_a_header_claiming_a_huge_length_is_damage(tmp_path: Path, clock: FakeClock) -> None:
    path, store, made = searched(tmp_path, clock)
    target = vector_files(path)[0]
    data = target.read_bytes()
    magic = len(b"agent-memory vectors 1\n")
    target.write_bytes(data[:magic] + (1 << 62).to_bytes(8, "little") + data[magic + 8 :])
    fresh = open_store(path, clock)
    assert nearest(fresh, basis(1)) == [made[1].content]
    store.close()
    fresh.close()


def test_files_written_while_another_store_reactivates_never_outlive_the_change(
    tmp_path: Path, clock: FakeClock
) -> None:
    path, store, made = searched(tmp_path, clock)
    errors: list[BaseException] = []
    done = threading.Event()

    def cold_searches() -> None:  # a new store each time: map, or read and write the file
        try:
            while not done.is_set():
                reader = open_store(path, clock)
                nearest(reader, basis(6))
                reader.close()
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    readers = [threading.Thread(target=cold_searches) for _ in range(2)]
    for thread in readers:
        thread.start()
    writer = open_store(path, clock)
    for k in range(20):
        writer.supersede(USER, made[1].id, by="newer", reason="contradict")
        writer.create_memory(made[1], basis(6 if k % 2 else 7))  # the last one: basis(6)
    done.set()
    for thread in readers:
        thread.join(timeout=60)
    assert errors == []
    for fresh in (open_store(path, clock), open_store(path, clock)):
        assert nearest(fresh, basis(6)) == [made[1].content]
        assert nearest(fresh, basis(7)) == []
        fresh.close()
    store.close()
    writer.close()
