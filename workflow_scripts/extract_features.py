"""Snakemake script: one utterance-level feature for the clips of one shard."""

import logging
import os
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821 (snakemake is injected)
sys.path.insert(0, os.path.dirname(__file__))

import pyarrow.compute as pc  # noqa: E402

from merlib.features.extraction import extract_shard, feature_flags  # noqa: E402
from merlib.tables import (  # noqa: E402
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
from merlib.transcripts import with_transcripts  # noqa: E402


def main(
    feature,
    spec,
    shard,
    manifest_path,
    audio_path,
    faces_path,
    batch_size,
    threads,
    out,
    rejects,
    flags,
    model_cache,
    transcripts_path=None,
):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    if model_cache:  # where wheel-shipped models (Whisper-base) are assembled, once
        os.environ.setdefault("MERFLOW_MODEL_CACHE", os.path.abspath(model_cache))
    manifest = read_table(manifest_path, MANIFEST)
    manifest = manifest.filter(pc.equal(manifest.column("shard"), shard))
    if transcripts_path:  # text features read the transcripts (release text or ASR)
        transcripts = read_table(transcripts_path, TRANSCRIPTS)
        manifest = with_transcripts(manifest, transcripts, where=str(transcripts_path))
    modality = spec.get("modality")
    audio = read_table(audio_path, AUDIO) if modality == "audio" and audio_path else None
    faces = read_table(faces_path, FACES) if modality == "visual" and faces_path else None
    logging.info("feature %s (%s) on shard %s: %d clips", feature, modality, shard, len(manifest))
    features, rejected = extract_shard(
        feature, spec, manifest, audio, faces, batch_size=batch_size, threads=threads
    )
    for row in rejected.to_pylist():
        logging.info("rejected %s: %s", row["name"], row["reason"])
    flagged = feature_flags(spec, manifest, features)
    for row in flagged.to_pylist():
        logging.info("flagged %s: %s", row["name"], row["flag"])
    dim = features.schema.field("embedding").type.list_size
    write_table(flagged, flags, FEATURE_FLAGS)
    write_table(rejected, rejects, FEATURE_REJECTS)
    write_table(features, out, features_schema(dim))


main(
    snakemake.params.feature,  # noqa: F821
    dict(snakemake.params.spec),  # noqa: F821
    snakemake.wildcards.shard,  # noqa: F821
    snakemake.input.manifest,  # noqa: F821
    snakemake.input.get("audio"),  # noqa: F821
    snakemake.input.get("faces"),  # noqa: F821
    int(snakemake.params.batch_size),  # noqa: F821
    snakemake.threads,  # noqa: F821
    snakemake.output.features,  # noqa: F821
    snakemake.output.rejects,  # noqa: F821
    snakemake.output.flags,  # noqa: F821
    snakemake.params.get("model_cache"),  # noqa: F821
    snakemake.input.get("transcripts"),  # noqa: F821
)
