"""CNN builders, registered in :data:`cnn.MODELS`.

Every builder is a small pure function ``build(input_shape, num_classes,
**hparams) -> keras.Model`` in the keras-io Keras 3 style: ``keras.Input``
first, functional API, no training code. Builders see inputs already scaled
to [0, 1] (:class:`cnn.KerasClassifier` scales uint8 pixels itself) and end in
a float32 softmax so that mixed-precision policies stay numerically safe.
"""

from __future__ import annotations

import keras
from keras import layers

from cnn._registry import register_model

__all__ = [
    "ChannelPad",
    "build_cnn_bn",
    "build_mobilenetv2",
    "build_resnet9",
    "build_resnet20",
    "build_resnet50",
    "build_simple_convnet",
]


def _softmax_head(x, num_classes: int, **kwargs):
    """Dense softmax classifier kept in float32 under mixed precision."""
    return layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="predictions", **kwargs
    )(x)


@register_model("simple_convnet", tags=("small",))
def build_simple_convnet(input_shape, num_classes: int, dropout: float = 0.5) -> keras.Model:
    """The keras-io MNIST convnet: two 3x3 conv + max-pool stages, dropout, softmax.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``.
    num_classes : int
        Number of output classes.
    dropout : float, default=0.5
        Dropout rate before the classifier.

    Returns
    -------
    keras.Model
        34,826 parameters on ``(28, 28, 1)`` with 10 classes
        (320 / 18,496 / 16,010).

    References
    ----------
    F. Chollet, "Simple MNIST convnet", keras.io examples, 2015 (updated 2020).
    """
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = layers.Conv2D(32, 3, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = _softmax_head(x, num_classes)
    return keras.Model(inputs, outputs, name="simple_convnet")


_POOLS = ("max", "average", "global_max", "global_average")
_HEADS = ("global_average", "global_max", "flatten")


def _regularizer(l2: float):
    return keras.regularizers.L2(l2) if l2 else None


@register_model("cnn_bn", tags=("ablation",))
def build_cnn_bn(
    input_shape,
    num_classes: int,
    filters=(32, 64, 128),
    convs_per_block: int = 2,
    batch_norm: bool = True,
    dropout: float = 0.0,
    l2: float = 0.0,
    initializer: str = "he_normal",
    pooling: str = "max",
    head: str = "global_average",
    dense_units: int = 0,
) -> keras.Model:
    """VGG-style conv blocks with switches for the ablation study.

    Each block is ``convs_per_block`` x (3x3 conv -> [BatchNorm] -> ReLU),
    then a 2x2 pooling of kind ``pooling`` and optional dropout; the head is a
    global pooling (or flatten), an optional hidden dense layer and a softmax.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``.
    num_classes : int
        Number of output classes.
    filters : sequence of int, default=(32, 64, 128)
        Channels per block; one 2x2 down-sampling per block.
    convs_per_block : int, default=2
    batch_norm : bool, default=True
        BatchNorm after every conv (the conv then has no bias).
    dropout : float, default=0.0
        Dropout rate after each block and before the classifier.
    l2 : float, default=0.0
        L2 weight-decay factor on conv and dense kernels (0 = off).
    initializer : {"he_normal", "he_uniform", "glorot_uniform", "glorot_normal"}
        Kernel initializer.
    pooling : {"max", "average", "global_max", "global_average"}
        Down-sampling inside the blocks ("max"/"average": 2x2 pooling); with
        a ``global_*`` kind the blocks use 2x2 max pooling and the head uses
        that global pooling (the head argument is then ignored).
    head : {"global_average", "global_max", "flatten"}
        How the last feature map becomes a vector.
    dense_units : int, default=0
        Hidden dense layer before the classifier (0 = none).

    Returns
    -------
    keras.Model
        289,642 parameters on ``(32, 32, 3)`` with 10 classes and defaults.

    References
    ----------
    S. Ioffe and C. Szegedy, "Batch Normalization", ICML 2015.
    K. Simonyan and A. Zisserman, "Very Deep Convolutional Networks", ICLR 2015.
    K. He et al., "Delving Deep into Rectifiers" (He initialization), ICCV 2015.
    """
    if pooling not in _POOLS:
        raise ValueError(f"pooling must be one of {_POOLS}, got {pooling!r}")
    if pooling.startswith("global_"):
        head, block_pool = pooling, "max"
    else:
        block_pool = pooling
    if head not in _HEADS:
        raise ValueError(f"head must be one of {_HEADS}, got {head!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    reg = _regularizer(l2)
    pool_layer = layers.MaxPooling2D if block_pool == "max" else layers.AveragePooling2D

    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    for b, f in enumerate(filters, start=1):
        for c in range(1, convs_per_block + 1):
            x = layers.Conv2D(
                f,
                3,
                padding="same",
                use_bias=not batch_norm,
                kernel_initializer=initializer,
                kernel_regularizer=reg,
                name=f"block{b}_conv{c}",
            )(x)
            if batch_norm:
                x = layers.BatchNormalization(name=f"block{b}_bn{c}")(x)
            x = layers.Activation("relu", name=f"block{b}_relu{c}")(x)
        x = pool_layer(2, name=f"block{b}_pool")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"block{b}_dropout")(x)
    if head == "global_average":
        x = layers.GlobalAveragePooling2D(name="head_pool")(x)
    elif head == "global_max":
        x = layers.GlobalMaxPooling2D(name="head_pool")(x)
    else:
        x = layers.Flatten(name="head_flatten")(x)
    if dense_units:
        x = layers.Dense(
            dense_units,
            activation="relu",
            kernel_initializer=initializer,
            kernel_regularizer=reg,
            name="head_dense",
        )(x)
        if dropout:
            x = layers.Dropout(dropout, name="head_dropout")(x)
    outputs = _softmax_head(x, num_classes, kernel_regularizer=reg)
    return keras.Model(inputs, outputs, name="cnn_bn")


@keras.saving.register_keras_serializable(package="cvbench")
class ChannelPad(layers.Layer):
    """Zero-pad the channel axis (the parameter-free "option A" shortcut).

    Parameters
    ----------
    extra : int
        Channels of zeros added, split evenly before and after.

    References
    ----------
    K. He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, Sec. 4.2.
    """

    def __init__(self, extra: int, **kwargs):
        super().__init__(**kwargs)
        self.extra = int(extra)

    def call(self, x):
        lo = self.extra // 2
        return keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [lo, self.extra - lo]])

    def compute_output_shape(self, input_shape):
        c = input_shape[-1]
        return (*input_shape[:-1], None if c is None else c + self.extra)

    def get_config(self):
        return {**super().get_config(), "extra": self.extra}


def _resnet_block(x, filters: int, stride: int, shortcut: str, reg, name: str):
    conv = dict(
        padding="same", use_bias=False, kernel_initializer="he_normal", kernel_regularizer=reg
    )
    y = layers.Conv2D(filters, 3, strides=stride, name=f"{name}_conv1", **conv)(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, name=f"{name}_conv2", **conv)(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    in_ch = x.shape[-1]
    if stride != 1 or in_ch != filters:
        if shortcut == "A":
            x = layers.MaxPooling2D(1, strides=stride, name=f"{name}_subsample")(x)
            x = ChannelPad(filters - in_ch, name=f"{name}_pad")(x)
        else:
            x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_proj", **conv)(x)
            x = layers.BatchNormalization(name=f"{name}_proj_bn")(x)
    y = layers.Add(name=f"{name}_add")([x, y])
    return layers.Activation("relu", name=f"{name}_out")(y)


@register_model("resnet20", tags=("cifar",))
def build_resnet20(
    input_shape,
    num_classes: int,
    depth: int = 20,
    base_filters: int = 16,
    shortcut: str = "A",
    l2: float = 1e-4,
) -> keras.Model:
    """CIFAR ResNet (He et al. 2016, Sec. 4.2): 6n+2 layers, 16-32-64 channels.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``; 32x32 in the paper.
    num_classes : int
    depth : int, default=20
        ``6n + 2`` (20, 32, 44, 56, 110).
    base_filters : int, default=16
        Channels of the first stage (doubled per stage).
    shortcut : {"A", "B"}, default="A"
        "A": parameter-free identity with stride-2 subsampling and zero
        channel padding (the paper's CIFAR choice); "B": 1x1 conv projection.
    l2 : float, default=1e-4
        L2 on kernels (the paper's weight decay 1e-4 with SGD; for AdamW use
        ``l2=0`` and the optimizer's weight decay).

    Returns
    -------
    keras.Model
        271,098 parameters (269,722 trainable) for depth 20, option A,
        32x32x3, 10 classes.

    References
    ----------
    K. He, X. Zhang, S. Ren and J. Sun, "Deep Residual Learning for Image
    Recognition", CVPR 2016.
    """
    if (depth - 2) % 6:
        raise ValueError(f"depth must be 6n+2 (20, 32, 44, 56, 110), got {depth}")
    if shortcut not in ("A", "B"):
        raise ValueError(f"shortcut must be 'A' or 'B', got {shortcut!r}")
    n = (depth - 2) // 6
    reg = _regularizer(l2)
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = layers.Conv2D(
        base_filters,
        3,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=reg,
        name="stem_conv",
    )(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    for stage in range(3):
        filters = base_filters * 2**stage
        for block in range(n):
            stride = 2 if (stage > 0 and block == 0) else 1
            x = _resnet_block(
                x, filters, stride, shortcut, reg, f"stage{stage + 1}_block{block + 1}"
            )
    x = layers.GlobalAveragePooling2D(name="head_pool")(x)
    outputs = _softmax_head(x, num_classes, kernel_regularizer=reg)
    return keras.Model(inputs, outputs, name=f"resnet{depth}")


def _conv_bn(x, filters: int, reg, momentum: float, name: str):
    x = layers.Conv2D(
        filters,
        3,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=reg,
        name=f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


@register_model("resnet9", tags=("cifar", "fast"))
def build_resnet9(
    input_shape,
    num_classes: int,
    width: int = 64,
    l2: float = 2.5e-4,
    bn_momentum: float = 0.9,
    logit_scale: float = 0.125,
) -> keras.Model:
    """The DAWNBench ResNet-9 of Page (2018): four conv-BN-ReLU stages, two residuals.

    prep conv (64) -> conv 128 + max-pool + residual(2 convs) -> conv 256 +
    max-pool -> conv 512 + max-pool + residual(2 convs) -> global max-pool ->
    dense (no bias) scaled by ``logit_scale`` -> softmax. Trained with
    one-cycle SGD, flips and 4-pixel translations, it reaches 94% on CIFAR-10
    in 24 epochs; it is the network for the GPU time-to-94% target
    (``scripts/gpu_bench.py``), which ResNet-20 (about 92% at best) cannot meet.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``; at least 8x8 (three 2x2 pools).
    num_classes : int
    width : int, default=64
        Channels of the prep layer; the stages use 2x, 4x and 8x.
    l2 : float, default=2.5e-4
        L2 on kernels (gradient ``2 * l2 * w``: weight decay 5e-4 in the
        PyTorch convention).
    bn_momentum : float, default=0.9
        Keras BatchNorm momentum (PyTorch's 0.1): the moving statistics keep
        up over a short schedule.
    logit_scale : float, default=0.125
        Multiplier of the logits before the softmax, as in the reference code.

    Returns
    -------
    keras.Model
        6,577,600 parameters (6,573,120 trainable) at width 64, 32x32x3,
        10 classes; 379M multiply-adds per image.

    References
    ----------
    D. Page, "How to train your ResNet", Myrtle.ai blog series (2018), and
    the DAWNBench CIFAR-10 entry; C. Coleman et al., "DAWNBench", 2017.
    """
    h, w = int(input_shape[0]), int(input_shape[1])
    if min(h, w) < 8:
        raise ValueError(f"resnet9 needs inputs of at least 8x8 (three 2x2 pools), got {h}x{w}")
    reg = _regularizer(l2)
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = _conv_bn(inputs, width, reg, bn_momentum, "prep")
    for i, (mult, residual) in enumerate(((2, True), (4, False), (8, True)), start=1):
        x = _conv_bn(x, width * mult, reg, bn_momentum, f"layer{i}")
        x = layers.MaxPooling2D(2, name=f"layer{i}_pool")(x)
        if residual:
            r = _conv_bn(x, width * mult, reg, bn_momentum, f"layer{i}_res1")
            r = _conv_bn(r, width * mult, reg, bn_momentum, f"layer{i}_res2")
            x = layers.Add(name=f"layer{i}_add")([x, r])
    x = layers.GlobalMaxPooling2D(name="head_pool")(x)
    x = layers.Dense(num_classes, use_bias=False, kernel_regularizer=reg, name="logits")(x)
    x = layers.Rescaling(logit_scale, name="logit_scale")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name="resnet9")


def _application(
    app, name: str, input_shape, num_classes: int, weights, min_size: int, **kwargs
) -> keras.Model:
    """Wrap a ``keras.applications`` backbone: pad if needed, GAP, softmax head."""
    h, w, c = (int(v) for v in input_shape)
    if weights not in (None, "imagenet"):
        raise ValueError(f"weights must be None or 'imagenet', got {weights!r}")
    if weights == "imagenet" and c != 3:
        raise ValueError(f"{name} with weights='imagenet' needs 3 channels, got {c}")
    inputs = keras.Input(shape=(h, w, c), name="image")
    x = inputs
    side = (max(min_size, h), max(min_size, w))
    if side != (h, w):
        # Zero padding, not resizing: MNIST-like digits sit on a black
        # background, and a Resizing layer before the backbone breaks the ONNX
        # export (tf2onnx then keeps BatchNorm in training mode).
        ph, pw = side[0] - h, side[1] - w
        x = layers.ZeroPadding2D(((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)), name="pad")(x)
    try:
        backbone = app(
            include_top=False,
            weights=weights,
            input_shape=(*side, c),
            pooling="avg",
            **kwargs,
        )
    except Exception as exc:  # network errors come in many types
        if weights == "imagenet":
            raise RuntimeError(
                f"could not get ImageNet weights for {name} ({type(exc).__name__}: {exc}). "
                "They are downloaded on first use into ~/.keras/models/; this machine "
                "seems to be offline. Use weights=None (train from scratch) or copy the "
                "weight file into ~/.keras/models/ by hand."
            ) from exc
        raise
    x = backbone(x)
    outputs = _softmax_head(x, num_classes)
    return keras.Model(inputs, outputs, name=name)


@register_model("mobilenetv2", tags=("applications",))
def build_mobilenetv2(
    input_shape, num_classes: int, alpha: float = 1.0, weights=None, min_size: int = 32
) -> keras.Model:
    """keras.applications MobileNetV2 with a new softmax head.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``; smaller than ``min_size`` (e.g. MNIST's 28x28) is
        zero-padded to it inside the model (centred), since the application
        refuses inputs under 32x32.
    num_classes : int
    alpha : float, default=1.0
        Width multiplier.
    weights : {None, "imagenet"}, default=None
        None trains from scratch; "imagenet" downloads weights (network
        needed; offline it fails at once with a clear :class:`RuntimeError`).
        With ImageNet weights feed inputs scaled as the application expects
        (``keras.applications.mobilenet_v2.preprocess_input``: [-1, 1]).
    min_size : int, default=32

    References
    ----------
    M. Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018.
    """
    return _application(
        keras.applications.MobileNetV2,
        "mobilenetv2",
        input_shape,
        num_classes,
        weights,
        min_size,
        alpha=alpha,
    )


@register_model("resnet50", tags=("applications", "large"))
def build_resnet50(input_shape, num_classes: int, weights=None, min_size: int = 32) -> keras.Model:
    """keras.applications ResNet50 (v1) with a new softmax head.

    keras.applications has no ResNet18/34; ResNet50 is the smallest ResNet
    there (23.6M parameters). At 32x32 its stride-32 trunk ends at 1x1.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W, C)``; zero-padded to ``min_size`` if smaller.
    num_classes : int
    weights : {None, "imagenet"}, default=None
        As in :func:`build_mobilenetv2` (ImageNet preprocessing is
        ``keras.applications.resnet.preprocess_input``: BGR, mean-subtracted).
    min_size : int, default=32

    References
    ----------
    K. He, X. Zhang, S. Ren and J. Sun, "Deep Residual Learning for Image
    Recognition", CVPR 2016.
    """
    return _application(
        keras.applications.ResNet50, "resnet50", input_shape, num_classes, weights, min_size
    )
