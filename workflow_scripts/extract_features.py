"""Snakemake script: one utterance-level feature for the clips of one shard, or of several
shards with one model load (features.<name> in feature_jobs.shards_per_job)."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, os.path.dirname(__file__))

import pyarrow.compute as pc

from merlib.features.extraction import extract_shards
from merlib.schemas import (
    AUDIO,
    FACES,
    FEATURE_FLAGS,
    FEATURE_REJECTS,
    MANIFEST,
    TRANSCRIPTS,
    features_schema,
    read_table,
    write_table,
)
from merlib.transcripts import with_transcripts


def per_shard(paths, n):
    """One path per shard: a per-shard job's single path (or None) as a list of one."""
    if paths is None or isinstance(paths, str):
        return [paths] * n
    paths = list(paths)
    if len(paths) != n:
        raise ValueError(f"{len(paths)} files for {n} shards: {paths}")
    return paths


def shard_inputs(feature, spec, shards, manifest, audio_paths, faces_paths, transcripts_paths):
    """(shard, manifest, audio, faces) of each shard, read when the job reaches it."""
    modality = spec.get("modality")
    for shard, audio_path, faces_path, transcripts_path in zip(
        shards, audio_paths, faces_paths, transcripts_paths, strict=True
    ):
        clips = manifest.filter(pc.equal(manifest.column("shard"), shard))
        if transcripts_path:  # text features read the transcripts (release text or ASR)
            transcripts = read_table(transcripts_path, TRANSCRIPTS)
            clips = with_transcripts(clips, transcripts, where=str(transcripts_path))
        audio = read_table(audio_path, AUDIO) if modality == "audio" and audio_path else None
        faces = read_table(faces_path, FACES) if modality == "visual" and faces_path else None
        logging.info("feature %s (%s) on shard %s: %d clips", feature, modality, shard, len(clips))
        yield shard, clips, audio, faces


def main(feature, spec, shards, inputs, batch_size, threads, outputs, model_cache):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    if snakemake.params.get("progress"):  # apply: the shard's time window
        logging.info("%s", snakemake.params.progress)
    if model_cache:  # where wheel-shipped models (Whisper-base) are assembled, once
        os.environ.setdefault("MERFLOW_MODEL_CACHE", os.path.abspath(model_cache))
    n = len(shards)
    manifest = read_table(inputs.manifest, MANIFEST)
    reads = shard_inputs(
        feature,
        spec,
        shards,
        manifest,
        per_shard(inputs.get("audio"), n),
        per_shard(inputs.get("faces"), n),
        per_shard(inputs.get("transcripts"), n),
    )
    outs = zip(
        per_shard(outputs.features, n),
        per_shard(outputs.rejects, n),
        per_shard(outputs.flags, n),
        strict=True,
    )
    results = extract_shards(feature, spec, reads, batch_size=batch_size, threads=threads)
    for (_, features, rejected, flagged), (out, rejects, flags) in zip(results, outs, strict=True):
        for row in rejected.to_pylist():
            logging.info("rejected %s: %s", row["name"], row["reason"])
        for row in flagged.to_pylist():
            logging.info("flagged %s: %s", row["name"], row["flag"])
        dim = features.schema.field("embedding").type.list_size
        write_table(flagged, flags, FEATURE_FLAGS)
        write_table(rejected, rejects, FEATURE_REJECTS)
        write_table(features, out, features_schema(dim))


main(
    snakemake.params.feature,
    dict(snakemake.params.spec),
    list(snakemake.params.get("shards") or [snakemake.wildcards.shard]),
    snakemake.input,
    int(snakemake.params.batch_size),
    snakemake.threads,
    snakemake.output,
    snakemake.params.get("model_cache"),
)
