"""merlib.atomic: outputs get the umask's permissions and stay atomic."""

import os
import stat

import pyarrow as pa
import pytest

from merlib.atomic import atomic_path, current_umask, file_mode, write_text_atomic
from merlib.schemas import FEATURE_REJECTS, write_table


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_current_umask_reads_the_process_umask(umask_027):
    assert current_umask() == 0o027
    assert file_mode() == 0o640


def test_written_text_gets_the_umask_mode_not_mkstemp_0600(tmp_path, umask_027):
    target = tmp_path / "sub" / "a.json"
    write_text_atomic("{}\n", target)
    assert target.read_text() == "{}\n"
    assert _mode(target) == 0o640


def test_written_table_is_group_readable_under_umask_022(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "rejects.parquet"
        write_table(FEATURE_REJECTS.empty_table(), target, FEATURE_REJECTS)
    finally:
        os.umask(old)
    assert _mode(target) == 0o644


def test_failed_write_leaves_neither_target_nor_temporary_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_schema_mismatch_writes_nothing(tmp_path):
    target = tmp_path / "x.parquet"
    with pytest.raises(ValueError):
        write_table(pa.table({"a": [1]}), target, FEATURE_REJECTS)
    assert not target.exists()
