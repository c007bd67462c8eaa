"""MER-OV: open-vocabulary emotion labels, their synonym groupings and set-level scores.

The evaluation is the MER2024 challenge's (MERTools ``MER2024/main-ov.py``), with the same
semantics; where merflow is stricter, :mod:`~merlib.ov.scoring` says so.

One concept per module; each imports only :mod:`~merlib.ov.openset` and modules outside
the package:

* :mod:`~merlib.ov.openset`: the label format (``OpenSetError``, ``Grouping``,
  ``parse_openset``, ``parse_grouping``, ``synonym_map``, ``format_openset``);
* :mod:`~merlib.ov.files`: the ``name,openset`` CSV and synonym groupings on disk
  (``read_openset_csv``, ``write_openset_csv``, ``load_groupings``);
* :mod:`~merlib.ov.scoring`: accuracy and recall (``clip_scores``, ``evaluate_openset``,
  ``compare_predictions``);
* :mod:`~merlib.ov.lexicon`: the emotion lexicon and its grouping (``Lexicon``,
  ``load_lexicon``, ``lexicon_grouping``);
* :mod:`~merlib.ov.groupings`: groupings computed per clip (``compute_groupings``,
  ``EncoderGrouper``); the LLM's is :func:`merlib.llm.llm_grouping`;
* :mod:`~merlib.ov.baselines`: the offline prediction baselines (``predict_empty``,
  ``predict_random``, ``predict_fusion``);
* :mod:`~merlib.ov.demo_labels`: the demo corpus's open-set ground truth
  (``demo_openset_labels``).

The package itself holds nothing: import from the module that defines a name.
"""
