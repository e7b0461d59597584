"""Storage failures of the embedded store raise StoreError naming the file; others' files stay."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent_memory import MemoryClient, SqliteStore, StoreError
from agent_memory.aio import MemoryClient as AsyncMemoryClient


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def foreign_database(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO customers (name) VALUES ('Ada')")
    db.commit()
    db.close()
    return path


@pytest.mark.parametrize(
    "content",
    [
        b"name,email\nada,ada@example.com\n",
        b"SQLite format 3\x00" + b"\xff" * 4000,  # header, then garbage
        b"\x00" * 8192,
    ],
)
def test_a_file_that_is_not_a_store_is_refused_and_left_untouched(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "data.db"
    path.write_bytes(content)
    before = fingerprint(path)
    with pytest.raises(StoreError, match=str(path)):
        MemoryClient(path=path)
    assert fingerprint(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.db"]  # no -wal / -shm left


def test_another_applications_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = foreign_database(tmp_path / "app.db")
    before = fingerprint(path)
    with pytest.raises(StoreError, match="another application's SQLite database"):
        SqliteStore(path)
    assert fingerprint(path) == before
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert db.execute("SELECT name FROM customers").fetchall() == [("Ada",)]
    db.close()


def test_a_directory_or_a_path_under_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        MemoryClient(path=tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=str(blocker)):
        MemoryClient(path=blocker / "memory.db")
    assert blocker.read_text() == "x"


def test_a_store_corrupted_on_disk_raises_store_error(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    with MemoryClient(path=path) as memory:
        for i in range(30):
            memory.add("u", "t", "user", f"turn {i} " + "words " * 200)
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 2 : page * 6] = b"\xa5" * (page * 4)  # overwrite b-tree pages
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=str(path)), MemoryClient(path=path) as memory:
        memory.get_turns("u", "t")
        memory.search("u", "words", include_turns=True)
        memory.add("u", "t", "user", "one more")


def test_a_locked_store_raises_store_error_after_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    SqliteStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            SqliteStore(path, busy_timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_full_database_raises_store_error_and_keeps_what_was_written(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    store = SqliteStore(path)
    with MemoryClient(store=store) as memory:
        memory.add("u", "t", "user", "kept")
        pages = store._connect().execute("PRAGMA page_count").fetchone()[0]
        store._connect().execute(f"PRAGMA max_page_count = {pages + 2}")
        with pytest.raises(StoreError, match="full"):
            memory.add_turns("u", "t", [{"role": "user", "content": "x" * 90_000}] * 20)
        assert [t.content for t in memory.get_turns("u", "t")] == ["kept"]
    store.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files anyway")
def test_a_read_only_store_raises_store_error(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    SqliteStore(path).close()
    path.chmod(0o444)
    with pytest.raises(StoreError, match=str(path)), MemoryClient(path=path) as memory:
        memory.add("u", "t", "user", "hello")


async def test_the_async_client_raises_store_error_too(tmp_path: Path) -> None:
    path = foreign_database(tmp_path / "app.db")
    before = fingerprint(path)
    with pytest.raises(StoreError, match="another application's"):
        AsyncMemoryClient(path=path)
    assert fingerprint(path) == before


def test_the_cli_reports_a_storage_failure_without_a_traceback(tmp_path: Path) -> None:
    path = foreign_database(tmp_path / "app.db")
    result = subprocess.run(
        [sys.executable, "-m", "agent_memory.cli", "--path", str(path), "turns", "list", "u", "t"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "StoreError" in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr
