"""Robustness: clean against noisy predictions scored on the same clips, and the SNR of
the written wav files checked against the drawn one."""

from __future__ import annotations

import pyarrow as pa

from ..av.wav import read_wav
from ..labels import MER2024, LabelSet
from ..metrics import EvaluationError, accuracy, waf
from ..schemas import ROBUSTNESS, table_from_rows
from .mixing import measured_snr_db

NOT_BLURRED = "none"  # the blur group of clips with no video stream (audio only)


def robustness(
    clean: pa.Table, noisy: pa.Table, noise: pa.Table, labels, label_set: LabelSet = MER2024
) -> tuple[dict, pa.Table]:
    """WAF and accuracy of the clean and the noisy predictions on the same clips.

    ``clean`` / ``noisy`` are PREDICTIONS tables, ``noise`` the NOISE table, ``labels`` a
    ``name, discrete`` DataFrame (:func:`merlib.metrics.read_test_labels`). Scored clips:
    those with a noisy copy and a label; every one of them must have both predictions.
    Returns the summary dict (``all``, ``by_snr_db``, ``by_blur_factor``) and the
    ROBUSTNESS table with the same figures. ``label_set``: the run's label set. A clip
    with no video stream (``n_frames`` 0: nothing was blurred) counts under the blur
    factor ``none``, not under the factor drawn for it.
    """
    truth = dict(zip(labels["name"], labels["discrete"], strict=True))
    pred = {}
    for what, table in (("clean", clean), ("noisy", noisy)):
        pred[what] = dict(
            zip(table.column("name").to_pylist(), table.column("discrete").to_pylist(), strict=True)
        )
    drawn = noise.select(["name", "snr_db", "blur_factor"]).to_pylist()
    if "n_frames" in noise.column_names:
        for row, frames in zip(drawn, noise.column("n_frames").to_pylist(), strict=True):
            if frames == 0:
                row["blur_factor"] = NOT_BLURRED
    scored = [r for r in drawn if r["name"] in truth]
    if not scored:
        raise EvaluationError("no noisy clip has a label: nothing to score")
    for what in ("clean", "noisy"):
        missing = [r["name"] for r in scored if r["name"] not in pred[what]]
        if missing:
            raise EvaluationError(
                f"{len(missing)} noisy clips have no {what} prediction, e.g. {missing[:3]}"
            )

    def scores(rows: list[dict]) -> dict:
        t = [truth[r["name"]] for r in rows]
        out = {"n_clips": len(rows)}
        for what in ("clean", "noisy"):
            p = [pred[what][r["name"]] for r in rows]
            out[f"waf_{what}"] = waf(t, p, label_set)
            out[f"acc_{what}"] = accuracy(t, p, label_set)
        out["waf_drop"] = out["waf_clean"] - out["waf_noisy"]
        return out

    summary = {
        "all": scores(scored),
        "n_unlabelled": len(drawn) - len(scored),
        "by_snr_db": {},
        "by_blur_factor": {},
    }
    table_rows = [{"group": "all", "value": "all"} | summary["all"]]
    for key in ("snr_db", "blur_factor"):
        for value in sorted({r[key] for r in scored}, key=lambda v: (v == NOT_BLURRED, v)):
            s = scores([r for r in scored if r[key] == value])
            summary[f"by_{key}"][str(value)] = s
            table_rows.append({"group": key, "value": str(value)} | s)
    columns = ROBUSTNESS.names
    table = table_from_rows([{c: r[c] for c in columns} for r in table_rows], ROBUSTNESS)
    return summary, table


def snr_check(noise: pa.Table) -> list[dict]:
    """Per noisy clip, the SNR recomputed from its clean and noisy wav files against the
    drawn one: ``name, snr_db, rescaled, measured_db`` (noisy minus clean, as a plain
    reader would compute it) and ``measured_scaled_db`` (against ``mix_scale`` x clean,
    which is what the mix holds when it was rescaled)."""
    out = []
    for row in noise.select(
        ["name", "snr_db", "rescaled", "mix_scale", "clean_audio", "noisy_audio"]
    ).to_pylist():
        clean, _ = read_wav(row["clean_audio"])
        noisy, _ = read_wav(row["noisy_audio"])
        out.append(
            {
                "name": row["name"],
                "snr_db": row["snr_db"],
                "rescaled": row["rescaled"],
                "measured_db": measured_snr_db(clean, noisy),
                "measured_scaled_db": measured_snr_db(clean, noisy, row["mix_scale"]),
            }
        )
    return out
