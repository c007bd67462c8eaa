"""A process killed with SIGKILL while writing a Parquet table never leaves a file at the
destination that reads as complete: the old one stays, or there is none."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pytest

from merlib.schemas import FEATURE_REJECTS, read_table, write_table

REPO = Path(__file__).resolve().parents[2]
N_ROWS = 400_000

# Writes one big table again and again to argv[1]; says "writing" before each write.
WRITER = textwrap.dedent(
    """
    import sys
    import pyarrow as pa
    from merlib.schemas import FEATURE_REJECTS, write_table

    n = int(sys.argv[2])
    table = pa.table(
        {"name": [f"clip{i:08d}" for i in range(n)], "reason": ["x" * 40] * n},
        schema=FEATURE_REJECTS,
    )
    while True:
        print("writing", flush=True)
        write_table(table, sys.argv[1], FEATURE_REJECTS)
    """
)


def start_writer(dest: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO / "workflow_scripts")}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(dest), str(N_ROWS)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def writing_temporary(folder: Path) -> bool:
    for path in folder.glob(".*.tmp"):
        try:
            if path.stat().st_size:
                return True
        except FileNotFoundError:  # renamed in place meanwhile
            pass
    return False


def kill_while_writing(proc: subprocess.Popen, folder: Path) -> None:
    """SIGKILL ``proc`` while its temporary file is being written."""
    assert proc.stdout.readline() == "writing\n"
    deadline = time.monotonic() + 120
    while not writing_temporary(folder):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def assert_complete_or_absent(dest: Path, old: pa.Table | None) -> None:
    if not dest.exists():
        assert old is None, "the previous table was removed"
        return
    table = read_table(dest, FEATURE_REJECTS)  # raises on a half-written file
    assert table.num_rows == N_ROWS or (old is not None and table.equals(old))


@pytest.mark.parametrize("previous", [False, True], ids=["first-write", "rewrite"])
def test_sigkill_during_write_table_never_leaves_a_partial_table(tmp_path, previous):
    dest = tmp_path / "rejects.parquet"
    old = None
    if previous:
        old = pa.table({"name": ["a"], "reason": ["old"]}, schema=FEATURE_REJECTS)
        write_table(old, dest, FEATURE_REJECTS)
    kill_while_writing(start_writer(dest), tmp_path)
    assert_complete_or_absent(dest, old)
    # what else is left is a hidden temporary that no rule names as an output
    assert all(p.name.startswith(".rejects.parquet.") for p in tmp_path.iterdir() if p != dest)
