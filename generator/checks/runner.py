"""Run checks, each in its own process with a timeout and resource caps; cache unchanged ones.

A hang, a crash, an out-of-memory or a flood of output becomes one check's result with its reason;
the other checks still run. Results are plain ``CheckResult`` records.
"""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Callable

from ..file_digests import FileDigests
from ..memo import ParseMemo
from .discover import HELPERS_DIR, CheckSpec, content_hash, helpers_of_every_file, local_imports, snippet_imports
from .results import CheckResult

# What runs in each check's process: caps, then the check, then its outcome as JSON.
RUN_CHECK = r"""
def run_one_check(snippets, file, function, out, memory, cpu, output, files):
    import dataclasses, importlib.util, json, resource, sys
    for limit, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, cpu),
                         (resource.RLIMIT_FSIZE, output), (resource.RLIMIT_NOFILE, files)):
        resource.setrlimit(limit, (value, value))
    if snippets not in sys.path:
        sys.path.insert(0, snippets)
    import harness
    try:
        spec = importlib.util.spec_from_file_location(function.split("::")[0], file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        outcome = dataclasses.asdict(harness.run_check(getattr(module, function)))
    except BaseException as exc:
        outcome = {"status": "error", "message": f"the snippet could not be loaded: {type(exc).__name__}: {exc}", "comparisons": [], "seconds": 0.0, "line": 0}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(outcome, handle)
"""

# One check in a fresh interpreter (where fork is unavailable, and the fallback).
CHILD = RUN_CHECK + r"""
import sys
run_one_check(*sys.argv[1:5], *map(int, sys.argv[5:9]))
"""

# A fork server: imports torch and the harness once, then forks a fresh process per check. The child
# gets its own session, output file and caps exactly as a fresh interpreter would; the server waits
# for it (killing its session at the timeout) and answers one JSON line per job.
ZYGOTE = RUN_CHECK + r"""
import json, os, signal, sys, time
snippets = sys.argv[1]
protocol = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)  # stray prints while importing go to the server's log, not the protocol
sys.path.insert(0, snippets)
import harness, torch, torch.testing  # noqa: F401  the imports every check pays, paid once
try:  # first uses that import more (tiny tensors: no thread pool starts before the fork)
    torch.testing.assert_close(torch.zeros(1), torch.zeros(1))  # torch.distributed.tensor
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # torch._dynamo
    import texeval
    texeval.evaluate("y = a + b", {"a": 1, "b": 2})  # the LaTeX evaluator, parsed and run once
except Exception:
    pass
for line in sys.stdin:
    job = json.loads(line)
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.setsid()
            log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(log, 1), os.dup2(log, 2), os.close(log)
            os.close(0), protocol.close()
            run_one_check(snippets, job["file"], job["function"], job["out"], *job["caps"])
        except BaseException:
            code = 1
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os._exit(code)
    timed_out, deadline = False, started + job["timeout"]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, status = os.waitpid(pid, 0)
            timed_out = True
            break
        time.sleep(0.005)
    protocol.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status), "timed_out": timed_out}) + "\n")
    protocol.flush()
"""


@dataclass(frozen=True)
class Limits:
    timeout: float = 120.0  # seconds of wall time per check
    memory_mb: int = 2048  # address space
    output_bytes: int = 1 << 20  # what a check may print (stdout + stderr)
    open_files: int = 256


@dataclass(frozen=True)
class Environment:
    device: str  # cpu | cuda
    python: str
    torch: str

    @classmethod
    def detect(cls, device: str) -> "Environment":
        try:
            torch_version = metadata.version("torch")
        except metadata.PackageNotFoundError:
            torch_version = "not installed"
        return cls(resolve_device(device), platform.python_version(), torch_version)


def resolve_device(device: str) -> str:
    """``auto`` is cuda where an NVIDIA driver is loaded, else cpu (decided without importing torch)."""
    if device != "auto":
        return device
    return "cuda" if Path("/proc/driver/nvidia/version").exists() else "cpu"


def evaluator_files() -> list[Path]:
    """The source files of ``texeval``, which every check that evaluates a note's LaTeX runs through (the
    harness imports it inside its functions, so it is not among a snippet's imports). Found without
    importing it, so a warm run does not pay for torch."""
    spec = importlib.util.find_spec("texeval")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations)))
    return sorted(folder.glob("*.py"))


class SnippetSources:
    """The bytes a snippet's cache key is made of (the file, the helpers it imports and the evaluator),
    read and parsed once per file however many checks the file holds. With a memo, every file's
    digest is looked up at once, by the digests of its bytes and its helpers' (``files``: those a
    long-lived caller keeps, so that an unchanged snippet is not even read)."""

    def __init__(self, root: Path, evaluator: list[Path] | None = None, memo: ParseMemo | None = None,
                 files: FileDigests | None = None) -> None:
        self.root = root
        self._parts: dict[str, tuple[bytes, ...]] = {}
        self._digests: dict[str, str] | None = None if memo is not None else {}
        self._evaluator = evaluator
        self._evaluator_hash: bytes | None = None
        self._memo = memo
        self._files = files or FileDigests()
        self._imports: dict[Path, list[str]] | None = None
        self._helpers_of: dict[Path, list[Path]] | None = None
        self._helpers: dict[Path, bytes] = {}

    def imports(self) -> dict[Path, list[str]]:
        """What each snippet file imports, kept across calls; with a memo, every file's, looked up at
        once (found, not parsed, where the file is unchanged); without, filled in as files are met."""
        if self._imports is None:
            self._imports = {} if self._memo is None else snippet_imports(self.root, self._memo, self._files)
        return self._imports

    def helpers(self, file: Path) -> list[Path]:
        """The helper modules ``file`` imports, transitively: with a memo, every file's at once."""
        if self._memo is None:
            return local_imports(self.root, file, self.imports())
        if self._helpers_of is None:
            self._helpers_of = helpers_of_every_file(self.root, self.imports())
        if file not in self._helpers_of:  # unreadable when listed: looked at on its own
            return local_imports(self.root, file, self.imports(), complete=True)
        return self._helpers_of[file]

    def parts(self, relative: str) -> tuple[bytes, ...]:
        if relative not in self._parts:
            file = self.root / relative
            helpers = self.helpers(file)
            self._parts[relative] = (file.read_bytes(), *(self._helper(p) for p in helpers), self.evaluator_hash())
        return self._parts[relative]

    def digest(self, relative: str) -> str:
        """The hash of ``parts``, once per file (hashing a snippet and its helpers once per check was
        a tenth of an edit's build at 750 notes)."""
        if self._digests is None:
            self._digests = self._every_digest()
        if relative not in self._digests:
            self._digests[relative] = content_hash(*self.parts(relative))
        return self._digests[relative]

    def _every_digest(self) -> dict[str, str]:
        """``digest`` of every file of the folder, from the memo where the file and its helpers hold
        the bytes they held when it was computed (reading and hashing 3,000 snippets was most of an
        edit's check lookup at 3,000 notes). The same hash as ``parts`` gives: a value is made from
        the bytes it is kept under."""
        made_of = {f"{HELPERS_DIR}/{file.name}": (file, *self.helpers(file)) for file in self.imports()}
        evaluator = self.evaluator_hash()

        def compute(relative: str, contents: tuple[bytes | None, ...]) -> str:
            if any(data is None for data in contents):  # unreadable now: as ``parts`` would fail
                return content_hash(*self.parts(relative))
            return content_hash(*contents, evaluator)

        return self._memo.file_values("snippet digest", made_of, self._files, compute, extra=evaluator.decode())

    def _helper(self, file: Path) -> bytes:
        """A helper module's bytes, read once (every snippet imports the harness)."""
        if file not in self._helpers:
            self._helpers[file] = file.read_bytes()
        return self._helpers[file]

    def evaluator_hash(self) -> bytes:
        if self._evaluator_hash is None:
            files = evaluator_files() if self._evaluator is None else self._evaluator
            self._evaluator_hash = content_hash(*(f.name.encode() + b"\0" + f.read_bytes() for f in files)).encode()
        return self._evaluator_hash


def cache_key(root: Path, spec: CheckSpec, env: Environment, note_tex: dict[str, str],
              sources: SnippetSources | None = None) -> str:
    """Changes with the snippet, the helpers it imports, the evaluator, the environment, or a bound equation's LaTeX."""
    parts = [(sources or SnippetSources(root)).digest(spec.file).encode()]
    parts += [f"{spec.function}|{env.device}|{env.python}|{env.torch}|float32".encode()]
    parts += [f"{e}={note_tex.get(e, '')}".encode() for e in spec.equations]
    return content_hash(*parts)


class Cache:
    """One JSON file per cache key; a missing or corrupt entry is a miss, never an error."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, key: str) -> CheckResult | None:
        try:
            return CheckResult.from_json(json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def put(self, key: str, result: CheckResult) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f".{key}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(result.to_json()), encoding="utf-8")
        temporary.replace(self.folder / f"{key}.json")


def run_all(root: Path, specs: list[CheckSpec], env: Environment, cache: Cache, note_tex: dict[str, str],
            jobs: int = 2, limits: Limits = Limits(), refresh: bool = False,
            progress: Callable[[CheckResult, int, int], None] | None = None,
            memo: ParseMemo | None = None) -> list[CheckResult]:
    """Run ``specs`` (``jobs`` at a time), answering unchanged ones from the cache (``memo``: where
    the snippets' imports, which their cache keys follow, were parsed before)."""
    sources = SnippetSources(root, memo=memo)
    keyed = [(spec, cache_key(root, spec, env, note_tex, sources)) for spec in specs]
    results: dict[str, CheckResult] = {}
    todo = []
    for spec, key in keyed:
        hit = None if refresh else cache.get(key)
        if hit is not None:
            results[spec.id] = replace(hit, cached=True)
        else:
            todo.append((spec, key))
    done = len(results)
    servers = ForkServers(root, env)
    with servers, concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        futures = {pool.submit(run_one, root, spec, env, limits, key, servers): (spec, key) for spec, key in todo}
        for future in concurrent.futures.as_completed(futures):
            spec, key = futures[future]
            result = future.result()
            results[spec.id] = result
            if result.status != "timeout":  # a timeout may be the machine's fault: try again next time
                cache.put(key, result)
            done += 1
            if progress:
                progress(result, done, len(specs))
    return [results[spec.id] for spec in specs]


class ForkServer:
    """A long-lived ``ZYGOTE`` process; ``run`` hands it one check and returns (returncode, timed_out),
    or None when the server is gone (the caller then starts a fresh interpreter instead)."""

    def __init__(self, root: Path, env: Environment) -> None:
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(root / HELPERS_DIR)], cwd=root,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                        env=check_environment(env), text=True, start_new_session=True)

    def run(self, job: dict) -> tuple[int, bool] | None:
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline()
            reply = json.loads(answer)
            return reply["returncode"], reply["timed_out"]
        except (OSError, ValueError, KeyError):
            return None

    def close(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
        self.log.close()


class ForkServers:
    """One fork server per worker thread, started on first use, all closed at the end."""

    def __init__(self, root: Path, env: Environment) -> None:
        self.root, self.env = root, env
        self.enabled = hasattr(os, "fork") and os.environ.get("PAPERNOTES_FORK_SERVER", "1") != "0"
        self.local = threading.local()
        self.started: list[ForkServer] = []
        self.lock = threading.Lock()

    def server(self) -> ForkServer | None:
        if not self.enabled:
            return None
        server = getattr(self.local, "server", None)
        if server is None or server.process.poll() is not None:
            server = self.local.server = ForkServer(self.root, self.env)
            with self.lock:
                self.started.append(server)
        return server

    def __enter__(self) -> "ForkServers":
        return self

    def __exit__(self, *exc) -> None:
        for server in self.started:
            server.close()


def check_environment(env: Environment) -> dict[str, str]:
    return {**os.environ, "PAPERNOTES_DEVICE": env.device, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}


def run_one(root: Path, spec: CheckSpec, env: Environment, limits: Limits, snippet_hash: str,
            servers: ForkServers | None = None) -> CheckResult:
    """One check in a fresh process (forked from a warm server, or a new interpreter); every way it
    can end becomes a result."""
    with tempfile.TemporaryDirectory(prefix="papernotes-check-") as tmp:
        out, log = Path(tmp) / "outcome.json", Path(tmp) / "output.log"
        caps = [limits.memory_mb << 20, int(limits.timeout * 2) + 5, limits.output_bytes, limits.open_files]
        started = time.perf_counter()
        server = servers.server() if servers else None
        ended = server.run({"file": str(root / spec.file), "function": spec.function, "out": str(out), "log": str(log),
                            "caps": caps, "timeout": limits.timeout}) if server else None
        if ended is None:
            ended = _run_in_new_interpreter(root, spec, env, limits, caps, out, log)
        returncode, timed_out = ended
        seconds = time.perf_counter() - started
        outcome = _read_outcome(out)
        tail = log.read_bytes()[-2000:].decode("utf-8", "replace") if log.exists() else ""
    base = CheckResult(check=spec.id, file=spec.file, line=spec.first_line, equations=spec.equations, status="error",
                       device=env.device, torch=env.torch, seconds=round(seconds, 3), max_error=None, tolerance=None,
                       snippet_hash=snippet_hash, date=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    if timed_out:
        return replace(base, status="timeout", message=f"did not finish within {limits.timeout:g} s (killed)")
    if outcome is None:
        return replace(base, message=_death(returncode, limits, tail))
    comparisons = outcome.get("comparisons") or []
    worst = max(comparisons, key=lambda c: c["max_abs_error"] / max(c["atol"], 1e-300), default=None)
    message = outcome.get("message", "")
    if "MemoryError" in message or "allocate memory" in message:
        message = f"ran out of memory (cap {limits.memory_mb} MB): {message}"
    elif "File too large" in message:  # Python ignores SIGXFSZ: the write past the cap raises instead
        message = f"printed more than {limits.output_bytes // 1024} KB of output (killed); print less"
    return replace(base, status=outcome["status"], line=outcome.get("line") or spec.first_line, message=message,
                   seconds=round(outcome.get("seconds", seconds), 3), figures=outcome.get("figures") or {},
                   evaluated=tuple(outcome.get("evaluated") or ()) if outcome["status"] == "passed" else (),
                   max_error=worst["max_abs_error"] if worst else None, tolerance=worst["atol"] if worst else None)


def _run_in_new_interpreter(root: Path, spec: CheckSpec, env: Environment, limits: Limits, caps: list[int],
                            out: Path, log: Path) -> tuple[int, bool]:
    command = [sys.executable, "-c", CHILD, str(root / HELPERS_DIR), str(root / spec.file), spec.function, str(out),
               *map(str, caps)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=root, stdout=sink, stderr=subprocess.STDOUT, env=check_environment(env),
                                   start_new_session=True)
        try:
            process.wait(timeout=limits.timeout)
            return process.returncode, False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return process.returncode, True


def _read_outcome(path: Path) -> dict | None:
    try:
        outcome = json.loads(path.read_text(encoding="utf-8"))
        return outcome if outcome.get("status") in ("passed", "failed", "skipped", "error") else None
    except (OSError, ValueError, AttributeError):
        return None


def _death(returncode: int, limits: Limits, tail: str) -> str:
    """Why a check's process ended without a result."""
    if returncode == -signal.SIGXFSZ:
        return f"printed more than {limits.output_bytes // 1024} KB of output (killed); print less"
    if returncode == -signal.SIGXCPU:
        return "used too much CPU time (killed)"
    if returncode in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT) or "MemoryError" in tail or "bad_alloc" in tail:
        return f"crashed or ran out of memory (cap {limits.memory_mb} MB, exit {returncode}): {_last_line(tail)}"
    return f"the check's process exited with {returncode} without a result: {_last_line(tail)}"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"
