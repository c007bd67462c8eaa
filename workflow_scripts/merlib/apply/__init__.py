"""Applying a trained model to new long videos: an emotion timeline per speaker turn.

Per video (each a rule of ``rules/apply.smk``): :mod:`~merlib.apply.segmentation` (the
collection stage's VAD, turn assembly and face checks, with no dataset filter: every
speech turn is kept, and what a dataset would drop it for becomes a note; speakers are
voice clusters), clips and their manifest (:mod:`~merlib.apply.clips`), then merflow's
own per-clip media, transcript and feature functions on those clips, the fusion model's
prediction (:func:`merlib.fusion.prediction.predict_manifest`, the mean of the fold
models), and the timeline (:mod:`~merlib.apply.timeline`), its SRT
(:mod:`~merlib.apply.srt`) and picture (:mod:`~merlib.apply.plot`). The model's card
(:mod:`~merlib.apply.card`) is written when the model is trained and checked when it is
applied. The package itself holds nothing: import from the module that defines a name.
"""
