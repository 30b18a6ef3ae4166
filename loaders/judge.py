"""The pandera schema in an interpreter of its own, for the rows the column forms left unclear.

pandas and pandera take about a second of CPU to import, more than validating a dirty chunk.
A child interpreter (spawned, not forked: its memory is its own imports, ~100 MB) imports them
on the second core while the loader reads, validates and writes; it judges each chunk's
uncleared rows with `loaders.schema.judge` and answers in order. A chunk's cleared rows are
written without waiting for it.

Messages are length-prefixed pickles: the load's (received_at, max_future_skew) first, then
one list of raw rows per chunk; each answer is (passed, failed) as `judge` returns them, or
("error", text). The child ends when its input ends.
"""

from __future__ import annotations

import contextlib
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from datetime import datetime
from typing import IO, Any

from loaders.sources import LoadError

HEADER = struct.Struct("!Q")
# Properties may nest as deep as orjson reads (1,024 levels); pickle recurses once per level.
RECURSION_LIMIT = 4000

Verdict = tuple[dict[int, tuple[Any, ...]], dict[int, str]]


def send(stream: IO[bytes], message: bytes) -> None:
    stream.write(HEADER.pack(len(message)))
    stream.write(message)
    stream.flush()


def receive(stream: IO[bytes]) -> bytes | None:
    """The next message, or None at the end of the stream."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        return None
    return body


def pickled(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


class Judge:
    """The child process, seen from the loader: `submit` rows, then take `verdict`s in order.

    Two threads move the messages, so neither side ever waits on a full pipe: one feeds the
    child (which takes requests off its pipe at once, even while importing pandera), one
    collects its answers.
    """

    def __init__(self, received_at: datetime, max_future_skew: float) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "loaders.judge"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._requests: queue.Queue[bytes | None] = queue.Queue()
        self._verdicts: queue.Queue[bytes | None] = queue.Queue()
        self._requests.put(pickled((received_at, max_future_skew)))
        self._threads = [
            threading.Thread(target=self._feed, name="eventmart-judge-feed", daemon=True),
            threading.Thread(target=self._collect, name="eventmart-judge-collect", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self.pending = 0  # requests not answered yet

    def _feed(self) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            while (message := self._requests.get()) is not None:
                send(stdin, message)
        except (BrokenPipeError, ValueError):  # the child ended; `verdict` reports it
            pass
        finally:
            with contextlib.suppress(BrokenPipeError):
                stdin.close()

    def _collect(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        while (message := receive(stdout)) is not None:
            self._verdicts.put(message)
        self._verdicts.put(None)

    def submit(self, rows: list[tuple[Any, ...]]) -> None:
        """Queue raw rows (the five fields) for judging; never blocks."""
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
        try:
            message = pickled(rows)
        finally:
            sys.setrecursionlimit(limit)
        self._requests.put(message)
        self.pending += 1

    def verdict(self, block: bool = True) -> Verdict | None:
        """The answer to the oldest request; None when not ready (`block=False`)."""
        try:
            message = self._verdicts.get(block=block)
        except queue.Empty:
            return None
        if message is None:
            code = self._proc.wait()
            raise LoadError(f"the validating process ended unexpectedly (exit {code})")
        answer = pickle.loads(message)  # noqa: S301 - our own child's output
        if answer[0] == "error":
            raise LoadError(f"validating failed: {answer[1]}")
        self.pending -= 1
        return answer

    def close(self) -> None:
        """End the child. Every verdict is in (or the load is stopping): nothing is lost."""
        self._requests.put(None)
        self._proc.kill()  # not its input's end: pandas' teardown would delay the loader's exit
        self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()


def main() -> None:
    """The child: judge each request with the pandera schema until the input ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the loader's to handle
    sys.setrecursionlimit(RECURSION_LIMIT)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    requests: queue.Queue[bytes | None] = queue.Queue()

    def read() -> None:
        while (message := receive(stdin)) is not None:
            requests.put(message)
        requests.put(None)

    threading.Thread(target=read, name="eventmart-judge-read", daemon=True).start()
    from loaders.readers import FIELDS
    from loaders.schema import event_schema, judge

    first = requests.get()
    if first is None:
        return
    received_at, max_future_skew = pickle.loads(first)  # noqa: S301 - from our parent
    schema = event_schema(received_at, max_future_skew)
    while (message := requests.get()) is not None:
        try:
            rows = pickle.loads(message)  # noqa: S301 - from our parent
            columns = {f: [row[k] for row in rows] for k, f in enumerate(FIELDS)}
            answer: object = judge(
                schema, columns, list(range(len(rows))), received_at, max_future_skew
            )
        except Exception as exc:  # the parent reports it and stops the load
            answer = ("error", f"{type(exc).__name__}: {exc}")
        try:
            send(stdout, pickled(answer))
        except BrokenPipeError:
            return


if __name__ == "__main__":
    main()
