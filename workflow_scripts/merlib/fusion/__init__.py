"""Attention fusion of clip-level features: the MER2024 baseline's model, trained with
K-fold cross validation, and prediction of every unlabelled clip.

One concept per module; each imports only those above it in this list:

* :mod:`~merlib.fusion.params`: :class:`FusionParams`, the hyperparameters;
* :mod:`~merlib.fusion.model`: the model, as one ``nn.Module`` (``AttentionFusion``) and
  as ``M`` models stacked into batched matrix products (``StackedFusion``);
* :mod:`~merlib.fusion.standardise`: per-feature z-scores fitted on training rows;
* :mod:`~merlib.fusion.dataset`: the labelled and unlabelled sets assembled from the
  feature tables, their flags and noisy copies (``FeatureSources``, ``ExtraRows``);
* :mod:`~merlib.fusion.stacked`: training many models at once (the folds of a run, or the
  combinations of a search);
* :mod:`~merlib.fusion.prediction`: checkpoints, and prediction from the fold models;
* :mod:`~merlib.fusion.training`: the cross-validation protocol (folds, kept epoch,
  out-of-fold predictions, the checkpoint) and the workflow's training step;
* :mod:`~merlib.fusion.submission`: the challenge's CSV and which model it comes from.

The package itself holds nothing: import from the module that defines a name.
"""
