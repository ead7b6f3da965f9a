"""The CNN-model registry."""

from __future__ import annotations

from benchmarks.registry import Registry

#: CNN builders: ``build(input_shape, num_classes, **hparams) -> keras.Model``.
#: Must import keras lazily (inside the builder's module, which ``cnn`` imports
#: lazily) so that listing models does not import TensorFlow.
MODELS: Registry = Registry("model")
register_model = MODELS.register
list_models = MODELS.list
get_model = MODELS.get
