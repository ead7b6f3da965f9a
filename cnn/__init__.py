"""Keras CNNs for cvbench, as scikit-learn classifiers.

Importing this package imports Keras (and its backend, ``KERAS_BACKEND``,
TensorFlow by default). Builders are registered in :data:`MODELS`; train one
with :class:`KerasClassifier`; export it to ONNX and run it through OpenCV with
:class:`CvDnnClassifier`.
"""

from cnn import _models  # noqa: F401  (registers the builders)
from cnn._device import accelerator, describe_device
from cnn._estimator import KerasClassifier
from cnn._facts import (
    conv_input_size,
    conv_output_size,
    layer_table,
    model_facts,
    pooling_demo,
    solve_kernel_padding,
    solve_stride,
    why_cnn_table,
)
from cnn._onnx import CvDnnClassifier, export_onnx
from cnn._registry import MODELS, get_model, list_models, register_model
from cnn._studies import ablation_configs, plot_ablation, plot_learning_curves, run_ablation
from cnn._training import (
    ArrayBatches,
    OneCycle,
    make_augmentation,
    make_dataset,
    make_schedule,
    time_to_accuracy,
)

__all__ = [
    "MODELS",
    "ArrayBatches",
    "CvDnnClassifier",
    "KerasClassifier",
    "OneCycle",
    "ablation_configs",
    "accelerator",
    "conv_input_size",
    "conv_output_size",
    "describe_device",
    "export_onnx",
    "get_model",
    "layer_table",
    "list_models",
    "make_augmentation",
    "make_dataset",
    "make_schedule",
    "model_facts",
    "plot_ablation",
    "plot_learning_curves",
    "pooling_demo",
    "register_model",
    "run_ablation",
    "solve_kernel_padding",
    "solve_stride",
    "time_to_accuracy",
    "why_cnn_table",
]
