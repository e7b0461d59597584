"""Each user's vectors in a memory-mapped file beside the database.

A process that searches a user for the first time maps the user's normalised vectors from
``<db>-vectors-<hash>`` instead of reading and decoding every embedding BLOB from SQLite; the
operating system pages in what the scoring touches, and the pages are shared between the
processes that use the store.

A file is a cache, never the record: it holds the vectors, in ``seq`` order, of the user's rows
up to ``max_seq`` as they were at one *vector generation* of the user (``user_state.vectors``,
bumped in the transaction of every change other than an append: a memory reactivated with a
new embedding, rows purged or forgotten) and one user epoch (drawn again when the user is
forgotten). A header that does not match the database, or a row count that does not match the
user's rows, makes the store read SQLite and write the file again. Whoever deletes rows clears
the file after the commit, so no deleted vector stays in the store's files; writers take an
exclusive ``flock`` on ``<db>-vectors.lock`` and check the database again under it, so a
writer that read before a deletion cannot put the deleted vectors back.

Side-file failures when reading or writing (a read-only directory, a full disk, a damaged
file) are not errors of the search: the store falls back to SQLite. Failing to clear a file
on ``forget`` is an error (:class:`~agent_memory.StoreError`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Final

import numpy as np
import numpy.typing as npt

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no side files, vectors come from SQLite
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger("agent_memory.sqlite")

MAGIC: Final = b"agent-memory vectors 1\n"
#: Headers are padded to a multiple of this, so the columns are page-aligned in the mapping.
PAGE: Final = 4096
TABLES: Final = ("memories", "turns")
#: The columns of a file after the header, in order, each padded to a multiple of 64 bytes.
COLUMNS: Final = (
    ("seq", np.int64),
    ("type_code", np.int8),
    ("confidence", np.float32),
    ("expires", np.float64),
    ("thread_code", np.int32),
    ("prev", np.int64),
    ("next", np.int64),
)
_ERASE_CHUNK: Final = 1 << 20
#: A longer header is damage, not thread names.
_MAX_HEADER: Final = 1 << 28


@dataclass(frozen=True, slots=True)
class Header:
    """What a vector file holds: ``rows`` rows of ``dims`` float32, seqs up to ``max_seq``,
    valid for one user epoch and vector generation; ``threads`` names the thread codes."""

    dims: int
    rows: int
    max_seq: int
    epoch: str
    generation: int
    threads: tuple[str, ...] = ()

    def encode(self) -> bytes:
        body = json.dumps(
            {
                "dims": self.dims,
                "rows": self.rows,
                "max_seq": self.max_seq,
                "epoch": self.epoch,
                "generation": self.generation,
                "threads": list(self.threads),
            }
        ).encode("utf-8")
        data = MAGIC + len(body).to_bytes(8, "little") + body
        return data.ljust(-(-len(data) // PAGE) * PAGE, b"\0")

    @staticmethod
    def read(handle: BinaryIO) -> Header | None:
        """The header at the start of an open file (None: not a vector file, or damaged)."""
        start = handle.read(len(MAGIC) + 8)
        if len(start) < len(MAGIC) + 8 or not start.startswith(MAGIC):
            return None
        length = int.from_bytes(start[len(MAGIC) :], "little")
        if length > _MAX_HEADER:
            return None
        try:
            fields = json.loads(handle.read(length))
            return Header(
                dims=int(fields["dims"]),
                rows=int(fields["rows"]),
                max_seq=int(fields["max_seq"]),
                epoch=str(fields["epoch"]),
                generation=int(fields["generation"]),
                threads=tuple(str(t) for t in fields["threads"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def layout(self) -> tuple[int, dict[str, tuple[int, int]]]:
        """File size and each column's (offset, bytes); ``matrix`` comes last."""
        offset = len(self.encode())
        spans: dict[str, tuple[int, int]] = {}
        for name, dtype in (*COLUMNS, ("matrix", np.float32)):
            width = np.dtype(dtype).itemsize * (self.dims if name == "matrix" else 1)
            size = width * self.rows
            spans[name] = (offset, size)
            offset += -(-size // 64) * 64
        return offset, spans


class VectorFiles:
    """The vector files of one database file (see the module docstring)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.lock_path = db_path.with_name(f"{db_path.name}-vectors.lock")

    @staticmethod
    def available(db_path: Path) -> bool:
        """Side files need a file database and ``flock`` (POSIX)."""
        return fcntl is not None and str(db_path) != ":memory:"

    def path(self, user_id: str, table: str) -> Path:
        """``<db>-vectors-<sha256 of user and table>``."""
        digest = hashlib.sha256(f"{table}\x1f{user_id}".encode()).hexdigest()[:32]
        return self.db_path.with_name(f"{self.db_path.name}-vectors-{digest}")

    @contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:  # without flock (Windows) files are only ever removed
                fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def open(
        self, user_id: str, table: str, dims: int, epoch: str, generation: int
    ) -> tuple[Header, dict[str, npt.NDArray[Any]]] | None:
        """The header and read-only mapped columns (``thread`` decoded), or None when the file
        is missing, damaged or of other vectors."""
        path = self.path(user_id, table)
        try:
            with self._locked(exclusive=False):
                if not path.exists():
                    return None
                with path.open("rb") as handle:
                    header = Header.read(handle)
                    if (
                        header is None
                        or (header.dims, header.epoch, header.generation)
                        != (dims, epoch, generation)
                        or header.rows == 0
                    ):
                        return None
                    size, spans = header.layout()
                    if os.fstat(handle.fileno()).st_size < size:
                        return None
                    data = np.memmap(handle, dtype=np.uint8, mode="r", shape=(size,))
            columns: dict[str, npt.NDArray[Any]] = {}
            for name, dtype in (*COLUMNS, ("matrix", np.float32)):
                offset, length = spans[name]
                columns[name] = data[offset : offset + length].view(dtype)
            columns["matrix"] = columns["matrix"].reshape(header.rows, dims)
            names = np.array(header.threads, dtype=object)
            columns["thread"] = names[columns.pop("thread_code")]
            return header, columns
        except (OSError, ValueError, IndexError) as exc:
            logger.debug("vector file of a user not used: %s", exc)
            return None

    def write(
        self,
        user_id: str,
        table: str,
        header: Header,
        columns: dict[str, npt.NDArray[Any]],
        current: Callable[[], bool],
    ) -> None:
        """Replace the file with ``columns`` (``thread`` as names, ``header.rows`` long) if
        ``current()`` still holds under the lock."""
        path = self.path(user_id, table)
        temp = path.with_name(path.name + ".tmp")
        threads = sorted(set(columns["thread"].tolist()))
        header = replace(header, threads=tuple(threads))
        codes = {name: code for code, name in enumerate(threads)}
        thread_code = np.fromiter(
            (codes[t] for t in columns["thread"].tolist()), dtype=np.int32, count=header.rows
        )
        try:
            with self._locked(exclusive=True):
                if not current():
                    return
                existing = _header_of(path)
                if existing == header:  # another process wrote the same vectors
                    return
                _, spans = header.layout()
                with temp.open("wb") as handle:
                    handle.write(header.encode())
                    for name, dtype in (*COLUMNS, ("matrix", np.float32)):
                        column = thread_code if name == "thread_code" else columns[name]
                        raw = np.ascontiguousarray(column, dtype=dtype).tobytes()
                        handle.seek(spans[name][0])
                        handle.write(raw)
                    handle.truncate(header.layout()[0])
                stale = existing is None or (existing.epoch, existing.generation) != (
                    header.epoch,
                    header.generation,
                )
                if stale and path.exists():  # older vectors, or damaged: nothing may stay
                    _erase(path)
                temp.replace(path)
        except OSError as exc:
            logger.debug("vector file of a user not written: %s", exc)
            with suppress(OSError):
                temp.unlink(missing_ok=True)

    def remove(self, user_id: str, *, erase: bool) -> None:
        """Delete the user's files; ``erase`` overwrites them with zeros first.

        Raises ``OSError`` when a file cannot be removed.
        """
        if not self.lock_path.exists() and not any(self.path(user_id, t).exists() for t in TABLES):
            return
        with self._locked(exclusive=True):
            for table in TABLES:
                path = self.path(user_id, table)
                if path.exists():
                    if erase:
                        _erase(path)
                    path.unlink()


def _header_of(path: Path) -> Header | None:
    """The header of an existing file, None when there is none or it is damaged."""
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return Header.read(handle)


def _erase(path: Path) -> None:
    """Overwrite a file with zeros in place and flush it to disk."""
    with path.open("r+b") as handle:
        size = os.fstat(handle.fileno()).st_size
        zeros = bytes(min(size, _ERASE_CHUNK))
        written = 0
        while written < size:
            written += handle.write(zeros[: size - written])
        handle.flush()
        os.fsync(handle.fileno())
