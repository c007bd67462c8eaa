"""Faces: detection (YuNet), alignment on five landmarks, and the crops made of them.

- :mod:`.detection`: :class:`~.detection.Face`, the two YuNet detectors, one per thread;
- :mod:`.alignment`: a similarity transform of the landmarks onto the ArcFace template;
- :mod:`.crops`: the square crop around a box, or the aligned face, at a given size.
"""
