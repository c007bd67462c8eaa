"""Collection: long videos in, one-speaker one-face clips in the MER2024 layout out.

Per source video, three steps (each a rule of ``rules/collect.smk``):

1. :func:`cut_segments`: candidate segments. A subtitle file of the same stem
   (``.srt``/``.ass``) gives the cut times and the text; without one, Silero VAD finds
   speech and consecutive speech segments are merged when the gap is short and a
   Resemblyzer speaker embedding says both sides are the same voice.
2. :func:`filter_segments`: duration within bounds, then one decode pass over the video:
   frames are sampled at ``face_fps`` only inside candidate segments (windows of nearby
   segments are decoded with an input seek, so the rest of the video is never decoded),
   faces are counted by YuNet and a clip is kept when at least ``face_fraction`` of its
   sampled frames hold exactly one face and dlib's face-identity embeddings of those
   faces are all within ``identity_threshold`` of each other.
3. :func:`export_clips`: kept segments cut to H.264/AAC mp4 (re-encoded, so the cut is
   frame accurate and audio and video start together), written atomically.

Every candidate is a row in the clips table, kept or with the reason it was not; a video
that cannot be used at all (empty, does not decode, no audio or video track, garbage
subtitles) is one row named after the video, with the reason.

Modules, each importing only those before it: :mod:`~merlib.collect.params`
(``CollectParams``), :mod:`~merlib.collect.sources` (videos, subtitles, names, probing),
:mod:`~merlib.collect.frames` (sampled frames, faces, identities, shot cuts),
:mod:`~merlib.collect.turns` (step 1), :mod:`~merlib.collect.filtering` (step 2),
:mod:`~merlib.collect.export` (step 3). The package itself holds nothing: import from the
module that defines a name.
"""
