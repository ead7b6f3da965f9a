"""One place that finds OpenCV constructors across OpenCV versions and builds."""

from __future__ import annotations

import cv2

#: Where each algorithm's constructor may live, in the order tried.  OpenCV 5
#: moved AKAZE, KAZE, BRISK, AGAST and the BoW helpers to ``cv2.xfeatures2d``;
#: BRIEF, DAISY, FREAK, LATCH and SURF have always been in contrib.
_CONSTRUCTORS = {
    "SIFT": ("SIFT_create", "xfeatures2d.SIFT_create"),
    "ORB": ("ORB_create", "xfeatures2d.ORB_create"),
    "AKAZE": ("AKAZE_create", "xfeatures2d.AKAZE_create"),
    "KAZE": ("KAZE_create", "xfeatures2d.KAZE_create"),
    "BRISK": ("BRISK_create", "xfeatures2d.BRISK_create"),
    "AGAST": ("AgastFeatureDetector_create", "xfeatures2d.AgastFeatureDetector_create"),
    "FAST": ("FastFeatureDetector_create", "xfeatures2d.FastFeatureDetector_create"),
    "BRIEF": ("xfeatures2d.BriefDescriptorExtractor_create",),
    "DAISY": ("xfeatures2d.DAISY_create",),
    "FREAK": ("xfeatures2d.FREAK_create",),
    "LATCH": ("xfeatures2d.LATCH_create",),
    "SURF": ("xfeatures2d.SURF_create",),
    "BOWKMeansTrainer": ("BOWKMeansTrainer", "xfeatures2d.BOWKMeansTrainer"),
    "BOWImgDescriptorExtractor": (
        "BOWImgDescriptorExtractor",
        "xfeatures2d.BOWImgDescriptorExtractor",
    ),
}


def cv_factory(name: str, **params):
    """Build OpenCV algorithm ``name`` (e.g. ``"SIFT"``, ``"BRIEF"``) with ``params``.

    Raises
    ------
    RuntimeError
        ``"<name> is unavailable in this OpenCV build (version X): ..."`` when
        no constructor exists or the build refuses it (SURF is patented and
        excluded from the pip wheels).
    KeyError
        For a name this table does not know.
    """
    if name not in _CONSTRUCTORS:
        raise KeyError(
            f"unknown OpenCV algorithm {name!r}; known: {', '.join(sorted(_CONSTRUCTORS))}"
        )
    tried = []
    for path in _CONSTRUCTORS[name]:
        obj = cv2
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is None:
            tried.append(f"cv2.{path}")
            continue
        try:
            return obj(**params)
        except cv2.error as e:
            msg = str(e).strip().splitlines()[-1]
            raise RuntimeError(
                f"{name} is unavailable in this OpenCV build (version {cv2.__version__}): "
                f"cv2.{path} raised: {msg}"
            ) from e
    raise RuntimeError(
        f"{name} is unavailable in this OpenCV build (version {cv2.__version__}): "
        f"none of {', '.join(tried)} exists (install opencv-contrib-python-headless)"
    )
