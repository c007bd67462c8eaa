"""The demo corpus's media format and folder names (the MER2024 release layout)."""

FPS = 15
FRAME_SIZE = 256  # frames are FRAME_SIZE x FRAME_SIZE
SAMPLE_RATE = 16000
STEP_S = 0.2  # clip durations are whole steps: 3 frames and 3200 samples
MIN_CLIP_S = 2.0
MAX_CLIP_S = 16.0
NOISE_STD = 3e-4  # background noise floor (about -70 dBFS), so silence is not digital zero

LABELLED_DIR = "video-labeled"
UNLABELLED_DIR = "video-unlabeled-with-test2noise"
EPISODES_DIR = "raw-episodes"
