"""Face alignment: a similarity transform of five facial landmarks onto a fixed template.

The stand-in for MERTools' OpenFace-aligned faces (``media.face_align: arcface``): the
five YuNet landmarks of a face (right eye, left eye, nose tip, right and left mouth
corners, in that order, as OpenCV's ``FaceDetectorYN`` and ``yuface`` give them) are
mapped by the least-median-of-squares similarity transform (rotation, one scale, shift;
``cv2.estimateAffinePartial2D``) onto the widely used ArcFace 112x112 five-point template,
and the frame is warped with it (``cv2.warpAffine``), borders replicated.

The subject's right eye is on the image's left, so YuNet's order matches the template's
left-to-right order point for point.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import VideoLoadingError

TEMPLATE_SIZE = 112
# The ArcFace (insightface) five-point template for 112x112 crops, in pixels (x, y):
# image-left eye, image-right eye, nose tip, image-left mouth corner, image-right one.
ARCFACE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)


def template(size: int) -> np.ndarray:
    """The five template points for a ``size`` x ``size`` crop (the 112 template scaled)."""
    return ARCFACE_112 * (size / TEMPLATE_SIZE)


def similarity_matrix(landmarks: np.ndarray, size: int) -> np.ndarray:
    """The 2x3 similarity transform taking ``landmarks`` (5 x 2, frame pixels) onto the
    template of a ``size`` crop. Raises VideoLoadingError when no transform is found
    (degenerate landmarks: all on one point, say)."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    matrix, _ = cv2.estimateAffinePartial2D(points, template(size), method=cv2.LMEDS)
    if (
        matrix is None
        or not np.all(np.isfinite(matrix))
        or abs(np.linalg.det(matrix[:, :2])) < 1e-12
    ):
        raise VideoLoadingError(f"no similarity transform for face landmarks {points.tolist()}")
    return matrix


def align_face(frame: np.ndarray, landmarks: np.ndarray, size: int) -> np.ndarray:
    """The ``size`` x ``size`` aligned face: ``frame`` warped so that its five landmarks
    land on the template (bilinear, edges replicated)."""
    matrix = similarity_matrix(landmarks, size)
    return cv2.warpAffine(
        frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
