"""A deterministic synthetic corpus in the MER2024 release layout: the "demo corpus".

It exists so that the workflow can be wired, run end to end and regression-tested
offline on two CPU cores. It is NOT a benchmark: every number measured on it says that
the plumbing works, never how good a method is.

Layout written under ``out_dir`` (the MER2024 release layout, plus hidden truth)::

    video-labeled/<name>.mp4                 labelled clips
    label-disdim.csv                         name,discrete
    label-transcription.csv                  name,chinese   (every clip, UTF-8)
    video-unlabeled-with-test2noise/<name>.mp4
    test-labels.csv                          name,discrete  (truth of the unlabelled pool;
                                                             real releases lack it)
    raw-episodes/episode_01.mp4 ...          long "raw" videos, >= 60 s each
    raw-episodes/episode_01.srt              subtitles of the first episode only
    raw-episodes/boundaries.csv              video,start,end,speaker,face,discrete,text
    README.txt

Names are ``sample_XXXXXXXX`` from a seeded draw, unrelated to the label, and tables are
sorted by name, so neither names nor row order carry label information.

Each clip is an H.264 (yuv420p) + AAC mp4, 256x256 at 15 fps, 2-16 s long (mostly 3-7 s),
with one real photographed face (scikit-image's ``astronaut``, ``camera`` and the faces
of ``lfw_subset``, all shipped offline) and Mandarin speech from espeak-ng (voice ``cmn``
and its variants, driven through ctypes from the ``espeakng-loader`` wheel), resampled
to 16 kHz, with leading and trailing silence.

How the emotion is carried (only by the media, never by names, metadata or order):

* text: sentences are built from per-emotion phrase banks (:data:`PHRASES`) and neutral
  filler, plus per-emotion end punctuation, so hundreds of distinct sentences exist;
* prosody: per-emotion espeak rate, pitch, pitch range and volume (:data:`PROSODY`):
  angry loud and fast, sad slow, low, flat and soft, surprise high with a wide range,
  happy higher and faster, worried medium-fast with a narrow range, neutral mid;
  interpolated from neutral by a per-clip strength, then jittered per clip;
* face: per-emotion facial action (:data:`EXPRESSIONS`), smooth displacement fields
  around the detected landmarks applied with ``cv2.remap`` (mouth corners up for happy,
  down for sad, jaw open and brows up for surprise, brows down and in for angry, inner
  brows up and in for worried, none for neutral), animated over time, on top of
  speech-driven mouth motion and small head motion (shift, scale, rotation) for all.

The cues are imperfect on purpose, so that a single modality is not enough and fusion
helps: per clip, the prosody and face strengths are drawn in [0.35, 1] and the text holds
one or two emotion phrases; for about 25 % of the emotional clips one modality, chosen at
random, is made uninformative (neutral wording, neutral prosody, or no expression). Voices,
faces, speaker pitch and head motion vary independently of the label.

Determinism: everything is drawn from ``numpy.random.default_rng(seed)`` in one planning
pass (per-clip sub-seeds for the rendering). espeak-ng is not stateless (its noise
generator and its pitch-flutter phase carry over between utterances of a process), so its
random generators are reseeded before every utterance and all utterances of a corpus are
spoken in order by one fresh Python process (:func:`synthesize_batch`). Rendering and
resampling are deterministic, so the same seed gives identical CSV files and identical
decoded audio and video, whatever the number of workers. The mp4 files are encoded
single-threaded with ``-bitexact`` flags and no metadata, which makes them byte-identical
across runs with the same ffmpeg build (a different ffmpeg/x264 build may encode
differently: compare decoded media, not bytes). A different seed or different counts give
a different corpus.

Speed: the default corpus (120 + 60 clips, 3 episodes of 60 s) takes about 35 s on two
cores; ``workers`` threads render and encode clips side by side.

Modules: :mod:`.spec` (format and folder names), :mod:`.text` (phrase banks and
sentences), :mod:`.speech` (espeak-ng prosody and synthesis), :mod:`.face_assets` (the
photos and their landmarks), :mod:`.expressions` (facial actions as displacement fields),
:mod:`.rendering` (frames of a timeline of shots), :mod:`.planning` (every seeded draw),
:mod:`.timeline` (a clip's or an episode's audio laid out, rendered and encoded with
:func:`merlib.av.encode.encode_mp4`), :mod:`.corpus` (the files written, the entry point).
"""

from __future__ import annotations

from .corpus import make_demo_corpus

# The corpus's README.txt names merlib.demo.make_demo_corpus: the entry point stays here.
__all__ = ["make_demo_corpus"]
