"""Audio and video I/O: the one place merflow runs ffmpeg, as lhotse keeps all decoding
in ``audio/backend.py``.

- :mod:`.ffmpeg`: which ffmpeg binary (checked for its version, logged) and running it;
- :mod:`.probe`: a file's duration and which streams it holds (ffmpeg's header, no decoding);
- :mod:`.decode`: audio as int16 PCM, sampled frames, every frame, a clip's frame rate;
- :mod:`.wav`: WAV files read and written;
- :mod:`.encode`: BGR frames and a WAV muxed into an H.264 + AAC mp4, bit-exactly.
"""
