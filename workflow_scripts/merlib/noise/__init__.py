"""Stage inject_noise (MER-NOISE): speech noise and blur added to clean clips, as the
challenge's generator does.

**Audio** (MERTools' ``add_noise``): noise comes from the ``speech`` subset of MUSAN (any
audio file under ``musan_dir``, searched recursively). Per clip an integer SNR is drawn
uniformly from ``snr_db`` (both bounds included); noise files are concatenated in random
order until the result is longer than the clean audio, and a random crop of the clean
length is taken; the noise is scaled so that ``RMS(clean) / RMS(scaled noise) =
10 ** (SNR / 20)`` and added. When the sum leaves the int16 range, the whole mix is
rescaled to fit (``rescaled`` and ``mix_scale`` record it, since the SNR then holds for the
rescaled clean signal, not for the clean file).

**Video**: each frame is downsampled by a factor drawn from ``blur_factors`` with repeated
``cv2.pyrDown`` (one per halving) and brought back to its size with as many ``cv2.pyrUp``;
factor 1 leaves the frame as it is. Frame rate, frame count and size are kept; the noisy
16 kHz mono audio is muxed back in (H.264 + AAC, bit-exact flags, no metadata).

**Determinism**: every draw of a clip comes from one ``numpy`` generator seeded by
:func:`clip_seed` (the config seed and the clip name only), and every encoder runs with
one thread and bit-exact flags, so a rerun or another shard layout gives byte-identical
files.

**Bad input**: a missing or empty noise folder raises :class:`NoiseCorpusError`; a noise
file that does not decode raises :class:`NoiseFileError` naming it (the corpus is broken,
not the clip); a clip that does not decode, has no audio, is shorter than
:data:`.shard.MIN_SECONDS` or is silent (RMS 0) becomes a reject row with the reason. Files are
written under temporary names and renamed, so nothing half-written is left behind.

Modules: :mod:`.params` (NoiseParams), :mod:`.errors`, :mod:`.corpus` (the MUSAN files),
:mod:`.draws` (seeded per-clip draws), :mod:`.mixing` (SNR mixing), :mod:`.blur`,
:mod:`.shard` (one clip, one shard), :mod:`.robustness` (scores and the SNR check),
:mod:`.manifest` (the noisy copy's manifest). Decoding, WAV files and the mp4 encoder are
:mod:`merlib.av`'s.
"""
