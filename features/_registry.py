"""The feature-extractor registry."""

from __future__ import annotations

from sklearn.base import TransformerMixin

from benchmarks.registry import Registry

#: Feature extractors: ``factory(**params) -> TransformerMixin`` mapping
#: uint8 images of shape (n, H, W, C) to float32 features of shape (n, d).
FEATURES: Registry[TransformerMixin] = Registry("feature")
register_feature = FEATURES.register
list_features = FEATURES.list
get_feature = FEATURES.get
build_feature = FEATURES.build
