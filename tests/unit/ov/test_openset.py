"""MER-OV label format: cells and grouping replies parsed as the reference does."""

from __future__ import annotations

import pytest

from merlib.ov.openset import OpenSetError, parse_grouping, parse_openset, synonym_map


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("['happy', 'relaxed']", ["happy", "relaxed"]),
        ('["looking forward to", "joyful"]', ["looking forward to", "joyful"]),
        ("[]", []),
        ("", []),
        (None, []),
        (float("nan"), []),
        ("['开心', '愉快']", ["开心", "愉快"]),
    ],
)
def test_parse_openset_reads_list_literals_and_empty_cells(cell, words):
    assert parse_openset(cell) == words


def test_parse_openset_without_brackets_names_the_place():
    with pytest.raises(OpenSetError, match=r"gt.csv, row 3.*not a list literal"):
        parse_openset("happy, sad", "gt.csv, row 3")


def test_parse_grouping_is_lenient_about_text_around_the_list():
    reply = "Output: [['joyful', 'happy'], ['sad'],['worried',\"concerned\"]]"
    groups = parse_grouping(reply)
    assert ["joyful", "happy"] in groups and ["sad"] in groups
    assert ["worried", "concerned"] in groups
    assert synonym_map(groups)["happy"] == "joyful"
