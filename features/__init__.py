"""Classical feature extractors as scikit-learn transformers.

Every extractor maps uint8 images of shape (n, H, W, C) to float32 features of
shape (n, n_features) and is registered with :func:`register_feature`.
"""

from features import (  # noqa: F401  (importing registers the extractors)
    _bow,
    _color_hist,
    _concat,
    _conv_kernels,
    _daisy,
    _gabor,
    _haar,
    _hog,
    _kmeans,
    _lbp,
    _mct,
    _pca,
    _raw,
    _shape_context,
)
from features._base import ImageFeature
from features._bow import BagOfVisualWords
from features._color_hist import ColorHistogram
from features._concat import Concat
from features._conv_kernels import ConvKernels
from features._cv import cv_factory
from features._daisy import Daisy, daisy_descriptors
from features._extract import Extraction, extract_features
from features._gabor import Gabor
from features._haar import Haar
from features._hog import HOG
from features._kmeans import KMeansPatches
from features._lbp import LBP, lbp_codes
from features._mct import MCT
from features._pca import PCAPixels
from features._raw import RawPixels
from features._registry import (
    FEATURES,
    build_feature,
    get_feature,
    list_features,
    register_feature,
)
from features._shape_context import ShapeContext, shape_context_histograms
from features._validation import check_images

__all__ = [
    "FEATURES",
    "MCT",
    "BagOfVisualWords",
    "Concat",
    "ConvKernels",
    "Daisy",
    "Gabor",
    "ShapeContext",
    "daisy_descriptors",
    "shape_context_histograms",
    "KMeansPatches",
    "ColorHistogram",
    "HOG",
    "Haar",
    "LBP",
    "PCAPixels",
    "Extraction",
    "ImageFeature",
    "RawPixels",
    "build_feature",
    "check_images",
    "cv_factory",
    "lbp_codes",
    "extract_features",
    "get_feature",
    "list_features",
    "register_feature",
]
