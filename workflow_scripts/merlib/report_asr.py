"""The report's rows for ASR measured on labelled clips (rule check_asr, summary.json's
``asr_check``): the CER with its interval, and the worst clips, release text beside ASR
text. :mod:`merlib.report` lays them out on the first and the summary page."""

from __future__ import annotations

from collections.abc import Mapping

ASR_HEADER = ["CER", "95% interval", "clips", "characters", "ASR empty", "model"]
ASR_WORST_HEADER = ["clip", "CER", "release transcription", "ASR", "why empty"]


def asr_check_rows(check: Mapping | None) -> list[list]:
    """The one row of the ASR check's table, none when no clip was checked."""
    if not check or check.get("cer") is None:
        return []
    interval = f"{check['ci_low']:.3f} - {check['ci_high']:.3f}"
    model = f"{check.get('model')} ({check.get('backend')})"
    return [
        [
            check["cer"],
            interval,
            check["clips"],
            check["characters"],
            check.get("empty_asr", 0),
            model,
        ]
    ]


def asr_worst_rows(check: Mapping | None) -> list[list]:
    """The check's worst clips, release text beside ASR text."""
    if not check:
        return []
    return [
        [w["name"], w["cer"], w["reference"], w["asr"], w.get("reason") or ""]
        for w in check.get("worst", [])
    ]


ASR_CAPTION = "ASR CER on labelled clips (vs the release text)"
ASR_NOTE = (
    "The release's transcription of a sample of labelled clips against what ASR makes of "
    "their audio, as it does for every clip without a release text (the unlabelled pool): "
    "corpus CER (edits over reference characters, punctuation, spaces and "
    "simplified/traditional variants ignored), with a percentile bootstrap interval over "
    "clips. Text features still read the release's text for these clips."
)


__all__ = [
    "ASR_CAPTION",
    "ASR_HEADER",
    "ASR_NOTE",
    "ASR_WORST_HEADER",
    "asr_check_rows",
    "asr_worst_rows",
]
