"""Model facts, convolution arithmetic, the "why CNN" table and the pooling demo."""

from __future__ import annotations

import math

import keras
import numpy as np

__all__ = [
    "conv_input_size",
    "conv_output_size",
    "layer_table",
    "model_facts",
    "pooling_demo",
    "solve_kernel_padding",
    "solve_stride",
    "why_cnn_table",
]


# ------------------------------------------------------------- model facts
def _shape(t):
    return tuple(None if d is None else int(d) for d in t.shape)


def _layer_macs(layer, in_shape, out_shape) -> int:
    """Multiply-accumulates of one forward pass of one image through ``layer``."""
    kind = type(layer).__name__
    if kind in ("Conv2D", "Conv1D", "Conv3D"):
        k = int(np.prod(layer.kernel_size))
        c_in = in_shape[-1] // getattr(layer, "groups", 1)
        return int(np.prod(out_shape[1:])) * k * c_in
    if kind == "DepthwiseConv2D":
        return int(np.prod(out_shape[1:])) * int(np.prod(layer.kernel_size))
    if kind == "SeparableConv2D":
        k = int(np.prod(layer.kernel_size))
        spatial = int(np.prod(out_shape[1:-1]))
        depth = spatial * in_shape[-1] * layer.depth_multiplier * k
        return depth + spatial * in_shape[-1] * layer.depth_multiplier * out_shape[-1]
    if kind == "Dense":
        return int(np.prod(in_shape[1:])) * out_shape[-1]
    return 0


def layer_table(model: keras.Model) -> list[dict]:
    """One row per layer: name, type, output shape, parameters, MACs.

    Nested models (e.g. a ``keras.applications`` backbone) are expanded,
    their layers named ``outer/inner``.

    Parameters
    ----------
    model : keras.Model
        A built functional model.

    Returns
    -------
    list of dict
        Keys ``name``, ``type``, ``output_shape`` (batch axis None),
        ``params``, ``macs`` (multiply-accumulates per image; conv and dense
        layers only, BatchNorm/pooling/activations count 0).
    """
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            for r in layer_table(layer):
                rows.append({**r, "name": f"{layer.name}/{r['name']}"})
            continue
        if type(layer).__name__ == "InputLayer":
            continue
        ins = layer.input if not isinstance(layer.input, list) else layer.input[0]
        in_shape, out_shape = _shape(ins), _shape(layer.output)
        rows.append(
            {
                "name": layer.name,
                "type": type(layer).__name__,
                "output_shape": out_shape,
                "params": int(layer.count_params()),
                "macs": _layer_macs(layer, in_shape, out_shape),
            }
        )
    return rows


def model_facts(model: keras.Model) -> dict:
    """Whole-model facts: parameters (trainable or not), weight bytes, MACs, FLOPs.

    Returns
    -------
    dict
        ``name``, ``params``, ``trainable_params``, ``non_trainable_params``,
        ``weight_bytes``, ``macs`` and ``flops`` (= 2 x MACs) per image,
        ``input_shape``, ``output_shape``, ``n_layers``.

    Notes
    -----
    One multiply-accumulate counts as 2 FLOPs; only conv and dense layers
    are counted, so BatchNorm, pooling and activations are left out.
    """
    rows = layer_table(model)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    macs = sum(r["macs"] for r in rows)
    return {
        "name": model.name,
        "params": int(model.count_params()),
        "trainable_params": int(trainable),
        "non_trainable_params": int(model.count_params()) - int(trainable),
        "weight_bytes": int(sum(np.asarray(w).nbytes for w in model.get_weights())),
        "macs": int(macs),
        "flops": int(2 * macs),
        "input_shape": _shape(model.inputs[0]),
        "output_shape": _shape(model.outputs[0]),
        "n_layers": len(rows),
    }


# -------------------------------------------------------- conv arithmetic
def _pad(padding, n, kernel, stride, dilation) -> float:
    if padding == "valid":
        return 0
    if padding == "same":
        eff = dilation * (kernel - 1) + 1
        total = max((math.ceil(n / stride) - 1) * stride + eff - n, 0)
        return total / 2
    return int(padding)


def conv_output_size(n: int, kernel: int, stride: int = 1, padding=0, dilation: int = 1) -> int:
    """Output length of a convolution or pooling along one axis.

    ``floor((n + 2p - d(k - 1) - 1) / s) + 1``; ``padding`` is an int (each
    side), "valid" (0) or "same" (Keras/TensorFlow: output ``ceil(n / s)``).

    References
    ----------
    V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep
    learning", 2016 (arXiv:1603.07285), relationship 6.
    """
    if padding == "same":
        return math.ceil(n / stride)
    p = _pad(padding, n, kernel, stride, dilation)
    out = (n + 2 * p - dilation * (kernel - 1) - 1) // stride + 1
    if out < 1:
        raise ValueError(f"kernel {kernel} does not fit an input of {n} with padding {p}")
    return int(out)


def conv_input_size(n_out: int, kernel: int, stride: int = 1, padding: int = 0, dilation=1) -> int:
    """Smallest input length giving ``n_out`` outputs: ``(n_out - 1) s + d(k - 1) + 1 - 2p``."""
    n = (n_out - 1) * stride + dilation * (kernel - 1) + 1 - 2 * int(padding)
    if n < 1:
        raise ValueError("no positive input size gives that output")
    return int(n)


def solve_kernel_padding(
    n_in: int, n_out: int, stride: int, max_kernel: int = 15, exact: bool = True
) -> list[tuple[int, int]]:
    """All ``(kernel, padding)`` with ``padding < kernel <= max_kernel`` mapping ``n_in`` to ``n_out``.

    Parameters
    ----------
    n_in, n_out, stride : int
    max_kernel : int, default=15
    exact : bool, default=True
        Keep only choices whose windows tile the padded input with no
        leftover pixels, ``(n_in + 2p - k) % stride == 0``.

    Examples
    --------
    AlexNet's first layer, 227 inputs to 55 outputs at stride 4:

    >>> solve_kernel_padding(227, 55, 4)[:2]
    [(11, 0), (13, 1)]

    References
    ----------
    A. Krizhevsky, I. Sutskever and G. Hinton, "ImageNet Classification with
    Deep Convolutional Neural Networks", NIPS 2012 (224 in the paper; only
    227 fits 11x11 at stride 4 exactly).
    """
    found = []
    for k in range(1, max_kernel + 1):
        for p in range(0, k):
            span = n_in + 2 * p - k
            if span < 0 or span // stride + 1 != n_out:
                continue
            if exact and span % stride:
                continue
            found.append((k, p))
    return found


def solve_stride(n_in: int, n_out: int, kernel: int, padding: int = 0) -> list[int]:
    """Strides mapping ``n_in`` to ``n_out`` for a given kernel and padding."""
    return [
        s
        for s in range(1, n_in + 2 * padding + 1)
        if n_in + 2 * padding >= kernel and (n_in + 2 * padding - kernel) // s + 1 == n_out
    ]


# ------------------------------------------------------------ why CNN
def why_cnn_table(input_shape=(28, 28, 1), filters: int = 32, kernel: int = 3) -> list[dict]:
    """Parameters and MACs of dense vs locally-connected vs conv for the same in/out shape.

    The layer maps an ``(H, W, C)`` image to ``(H - k + 1, W - k + 1, filters)``
    ("valid" padding). Dense connects every input to every output;
    locally-connected keeps the k x k receptive field but has separate
    weights (and biases) at every position; a convolution shares one k x k x C
    kernel per filter over all positions.

    Returns
    -------
    list of dict
        Rows ``layer``, ``params``, ``macs`` (per image), ``local``,
        ``weight_sharing``, ``ratio_to_conv``.

    References
    ----------
    Y. LeCun et al., "Gradient-Based Learning Applied to Document
    Recognition", Proc. IEEE 1998; I. Goodfellow, Y. Bengio and A. Courville,
    "Deep Learning", MIT Press 2016, Sec. 9.2 (sparse interactions, parameter sharing).
    """
    h, w, c = input_shape
    ho, wo = h - kernel + 1, w - kernel + 1
    n_in, n_out, pos = h * w * c, ho * wo * filters, ho * wo
    rows = [
        ("dense", n_in * n_out + n_out, n_in * n_out, False, False),
        (
            "locally_connected",
            pos * kernel * kernel * c * filters + n_out,
            n_out * kernel * kernel * c,
            True,
            False,
        ),
        ("conv", kernel * kernel * c * filters + filters, n_out * kernel * kernel * c, True, True),
    ]
    conv = rows[-1][1]
    return [
        {
            "layer": name,
            "params": int(p),
            "macs": int(m),
            "local": local,
            "weight_sharing": share,
            "ratio_to_conv": p / conv,
        }
        for name, p, m, local, share in rows
    ]


# -------------------------------------------------------------- pooling
def pooling_demo(x=None) -> dict[str, np.ndarray]:
    """Run Keras's four pooling layers on one single-channel image.

    Parameters
    ----------
    x : array-like of shape (H, W), optional
        Default: the study's 4x4 example
        ``[[12, 20, 30, 0], [8, 12, 2, 0], [34, 70, 37, 4], [112, 100, 25, 12]]``.

    Returns
    -------
    dict
        ``max`` and ``average`` (2x2, stride 2) as (H/2, W/2) arrays;
        ``global_max`` and ``global_average`` as floats.
    """
    if x is None:
        x = [[12, 20, 30, 0], [8, 12, 2, 0], [34, 70, 37, 4], [112, 100, 25, 12]]
    a = np.asarray(x, dtype=np.float32)[None, :, :, None]
    L = keras.layers
    out = {
        "max": L.MaxPooling2D(2)(a),
        "average": L.AveragePooling2D(2)(a),
        "global_max": L.GlobalMaxPooling2D()(a),
        "global_average": L.GlobalAveragePooling2D()(a),
    }
    out = {k: keras.ops.convert_to_numpy(v) for k, v in out.items()}
    return {
        "max": out["max"][0, :, :, 0],
        "average": out["average"][0, :, :, 0],
        "global_max": float(out["global_max"][0, 0]),
        "global_average": float(out["global_average"][0, 0]),
    }
