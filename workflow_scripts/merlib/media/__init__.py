"""Stage ``extract_media``: per clip, 16 kHz mono audio and face crops at a fixed frame rate.

- :mod:`.params`: the stage's parameters (config section ``media``);
- :mod:`.clip`: one clip decoded (:mod:`merlib.av.decode`), its faces detected and
  cropped (:mod:`merlib.faces`), and its rows or reject reasons;
- :mod:`.shard`: a shard's clips on worker threads, in clip order;
- :mod:`.paths`: a manifest's clip path under the data root, checked.

Decoding goes through :mod:`merlib.av` (the one ffmpeg). Each clip's problems are caught
per modality and returned as reasons; a shard always completes.
"""
