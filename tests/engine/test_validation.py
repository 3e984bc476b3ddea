"""Every malformed spec, case or capability set is refused with a message naming the field.

A malformed case must never reach an adapter: there it would fail in some framework's own
words, or worse, run and be compared.
"""

import re

import numpy as np
import pytest

from conformance import Activation, Capabilities, GateWeights, GRUCase, GRUSpec
from conformance.contract import PADDING

H, N_IN, T, B = 2, 3, 4, 2


def weights(n_in=N_IN, h=H, value=0.5):
    return GateWeights(np.full((3, h, n_in), value), np.full((3, h, h), value),
                       np.full((3, h), value), np.full((3, h), value))


def case(spec=None, **kw):
    spec = spec or GRUSpec(N_IN, H)
    kw.setdefault("weights", [weights()])
    kw.setdefault("x", np.ones((T, B, N_IN)))
    return GRUCase(spec, **kw)


def raises(pattern):
    return pytest.raises(ValueError, match=pattern)


# -- GRUSpec and Activation ---------------------------------------------------------------

@pytest.mark.parametrize("field", ["input_size", "hidden_size", "num_layers"])
@pytest.mark.parametrize("value", [0, -1, 2.0, True, "3"])
def test_sizes_must_be_positive_integers(field, value):
    args = {"input_size": 3, "hidden_size": 2, "num_layers": 1, field: value}
    with raises(rf"^{field}: expected a positive integer, got {re.escape(repr(value))}$"):
        GRUSpec(**args)


def test_sizes_accept_numpy_integers():
    assert GRUSpec(np.int64(3), np.int32(2)).input_size == 3


def test_unknown_direction():
    with raises(r"^direction: expected one of \['forward', 'reverse', 'bidirectional'\], got 'backward'$"):
        GRUSpec(3, 2, direction="backward")


@pytest.mark.parametrize("field", ["reset_after", "bias"])
def test_flags_must_be_bools(field):
    with raises(rf"^{field}: expected a bool, got 1$"):
        GRUSpec(3, 2, **{field: 1})


def test_unknown_activation():
    with raises(r"^activation: expected one of \['Sigmoid', .*'Affine'\], got 'Swish'$"):
        Activation("Swish")
    with raises(r"^activation: expected one of .*, got 'Swish'$"):
        GRUSpec(3, 2, activations=("Sigmoid", "Swish"))


def test_activations_must_be_a_pair():
    with raises(r"^activations: expected 2 activations \(f, g\), or 4 \(f, g per direction\) when bidirectional, "
                r"got 3 for direction forward$"):
        GRUSpec(3, 2, activations=("Sigmoid", "Tanh", "Relu"))
    with raises(r"^activations: expected 2 activations \(f, g\), got 'Sigmoid'$"):
        GRUSpec(3, 2, activations="Sigmoid")


@pytest.mark.parametrize("field", ["alpha", "beta"])
@pytest.mark.parametrize("value", ["0.5", float("nan"), float("inf"), True, [0.5]])
def test_activation_parameters_must_be_finite_numbers(field, value):
    with raises(rf"^activation ScaledTanh.{field}: expected None or a finite number, got {re.escape(repr(value))}$"):
        Activation("ScaledTanh", **{field: value})


def test_activation_parameters_are_stored_as_floats():
    a = Activation("HardSigmoid", np.float32(0.5), 1)
    assert (a.alpha, a.beta) == (0.5, 1.0) and type(a.alpha) is float and str(a) == "HardSigmoid(alpha=0.5, beta=1)"


def test_activations_accept_names_tuples_and_objects():
    spec = GRUSpec(3, 2, activations=(("HardSigmoid", 0.5, 0.25), Activation("Softsign")))
    assert spec.activations == (Activation("HardSigmoid", 0.5, 0.25), Activation("Softsign"))
    assert not spec.default_activations and GRUSpec(3, 2, activations=("Sigmoid", "Tanh")).default_activations


@pytest.mark.parametrize("clip", [0, -1.0, float("inf"), float("nan"), True, "1.0"])
def test_bad_clip(clip):
    with raises(rf"^clip: expected None or a positive finite number, got {re.escape(repr(clip))}$"):
        GRUSpec(3, 2, clip=clip)


def test_good_clip():
    assert GRUSpec(3, 2, clip=0.5).clip == 0.5 and GRUSpec(3, 2, clip=np.float32(2)).clip == 2


# -- GRUCase ------------------------------------------------------------------------------

def test_a_valid_case_is_an_immutable_copy():
    x = np.ones((T, B, N_IN))
    c = case(x=x, h0=np.zeros((1, B, H)), lengths=[4.0, 2.0])
    x[0, 0, 0] = 7.0
    assert c.x[0, 0, 0] == 1.0 and c.lengths.tolist() == [4, 2] and c.lengths.dtype == np.int64
    assert isinstance(c.weights[0], GateWeights) and c.ragged
    with pytest.raises(ValueError, match="read-only"):
        c.x[0, 0, 0] = 2.0


def test_spec_must_be_a_spec():
    with raises(r"^spec: expected a GRUSpec, got dict$"):
        GRUCase({"input_size": 3}, [weights()], np.ones((T, B, N_IN)))


def test_unknown_dtype():
    with raises(r"^dtype: expected one of \['float64', 'float32', 'float16', 'bfloat16'\], got 'float8'$"):
        case(dtype="float8")


@pytest.mark.parametrize("shape, message", [
    ((T, N_IN), r"^x.shape: expected \(T, B, input_size\), got \(4, 3\)$"),
    ((0, B, N_IN), r"^x.shape: expected T >= 1 and B >= 1, got \(0, 2, 3\)$"),
    ((T, 0, N_IN), r"^x.shape: expected T >= 1 and B >= 1, got \(4, 0, 3\)$"),
    ((T, B, N_IN + 1), r"^x.shape: expected \(4, 2, 3\), got \(4, 2, 4\)$"),
])
def test_bad_x_shape(shape, message):
    with raises(message):
        case(x=np.ones(shape))


def test_x_must_be_real_and_finite():
    with raises(r"^x.dtype: expected a real number type, got complex128$"):
        case(x=np.ones((T, B, N_IN), dtype=complex))
    with raises(r"^x.dtype: expected a real number type, got bool$"):
        case(x=np.ones((T, B, N_IN), dtype=bool))
    for bad in (np.nan, np.inf):
        x = np.ones((T, B, N_IN))
        x[1, 1, 1] = bad
        with raises(r"^x: expected finite values, got NaN or inf$"):
            case(x=x)


@pytest.mark.parametrize("dtype, value", [("float32", 0.1), ("float16", 1 + 2**-11), ("bfloat16", 1 + 2**-8),
                                          ("float16", 70000.0)])
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # 70000 -> inf in float16
def test_x_must_be_exact_in_the_dtype(dtype, value):
    with raises(rf"^x: expected values exactly representable in {dtype}, got values that round$"):
        case(x=np.full((T, B, N_IN), value), dtype=dtype)


def test_exact_values_pass_in_every_dtype():
    for dtype in ("float64", "float32", "float16", "bfloat16"):
        case(x=np.full((T, B, N_IN), 1 + 2**-7), dtype=dtype)


def test_weight_count():
    with raises(r"^weights: expected 2 entries \(num_layers \* num_directions\), got 1$"):
        case(GRUSpec(N_IN, H, direction="bidirectional"))
    with raises(r"^weights: expected 2 entries \(num_layers \* num_directions\), got 3$"):
        case(GRUSpec(N_IN, H, num_layers=2), weights=[weights(), weights(H), weights(H)])


def test_weight_entry_must_hold_four_arrays():
    with raises(r"^weights\[0\]: expected 4 arrays \(W, U, bW, bU\), got 3$"):
        case(weights=[tuple(weights())[:3]])


@pytest.mark.parametrize("field, shape, expected", [
    ("W", (3, H, N_IN + 1), (3, H, N_IN)),
    ("W", (H, 3, N_IN), (3, H, N_IN)),
    ("U", (3, H, H + 1), (3, H, H)),
    ("U", (3 * H, H), (3, H, H)),
    ("bW", (3 * H,), (3, H)),
    ("bU", (2, H), (3, H)),
])
def test_bad_weight_shapes(field, shape, expected):
    w = weights().replace(**{field: np.zeros(shape)})
    with raises(rf"^weights\[0\].{field}.shape: expected {re.escape(str(expected))}, got {re.escape(str(shape))}$"):
        case(weights=[w])


def test_upper_layer_reads_d_times_h():
    """Layer 1 of a bidirectional stack takes 2H inputs, not input_size."""
    spec = GRUSpec(N_IN, H, num_layers=2, direction="bidirectional")
    good = [weights(), weights(), weights(2 * H), weights(2 * H)]
    case(spec, weights=good)
    with raises(r"^weights\[2\].W.shape: expected \(3, 2, 4\), got \(3, 2, 3\)$"):
        case(spec, weights=good[:2] + [weights(), weights(2 * H)])


def test_non_finite_weights():
    with raises(r"^weights\[0\].U: expected finite values, got NaN or inf$"):
        case(weights=[weights().replace(U=np.full((3, H, H), np.nan))])


def test_weights_must_be_exact_in_the_dtype():
    with raises(r"^weights\[0\].bU: expected values exactly representable in bfloat16, got values that round$"):
        case(weights=[weights(value=0.5).replace(bU=np.full((3, H), 0.1))], dtype="bfloat16")


@pytest.mark.parametrize("field", ["bW", "bU"])
def test_bias_false_means_zero_biases(field):
    spec = GRUSpec(N_IN, H, bias=False)
    zero = dict(bW=np.zeros((3, H)), bU=np.zeros((3, H)))
    case(spec, weights=[weights().replace(**zero)])
    zero[field] = np.eye(3, H)
    with raises(rf"^weights\[0\].{field}: expected zeros when bias=False, got non-zero values$"):
        case(spec, weights=[weights().replace(**zero)])


def test_bad_h0():
    with raises(r"^h0.shape: expected \(1, 2, 2\), got \(2, 2\)$"):
        case(h0=np.zeros((B, H)))
    with raises(r"^h0.shape: expected \(2, 2, 2\), got \(1, 2, 2\)$"):
        case(GRUSpec(N_IN, H, direction="reverse", num_layers=2), weights=[weights(), weights(H)],
             h0=np.zeros((1, B, H)))
    with raises(r"^h0: expected finite values, got NaN or inf$"):
        case(h0=np.full((1, B, H), np.inf))
    with raises(r"^h0: expected values exactly representable in float32, got values that round$"):
        case(h0=np.full((1, B, H), 0.1), dtype="float32")


@pytest.mark.parametrize("lengths, message", [
    ([4], r"^lengths.shape: expected \(2,\), got \(1,\)$"),
    ([[4, 4]], r"^lengths.shape: expected \(2,\), got \(1, 2\)$"),
    ([5, 4], r"^lengths: expected values in \[0, 4\], got \[5, 4\]$"),
    ([-1, 2], r"^lengths: expected values in \[0, 4\], got \[-1, 2\]$"),
    ([1.5, 2.0], r"^lengths: expected integers, got \[1.5, 2.0\]$"),
    ([np.inf, 2.0], r"^lengths: expected integers, got \[inf, 2.0\]$"),
    (np.array(["1", "2"]), r"^lengths: expected integers, got \['1', '2'\]$"),
    (np.array([True, True]), r"^lengths: expected integers, got \[True, True\]$"),
])
def test_bad_lengths(lengths, message):
    with raises(message):
        case(lengths=lengths)


# -- Capabilities -------------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("dtypes", ("float8",)), ("dtypes", ()), ("directions", ("sideways",)), ("directions", ()),
    ("reset_after", ("yes",)), ("reset_after", ()), ("bias", (None,)), ("bias", ()),
])
def test_capability_sets(field, value):
    with raises(rf"^capabilities.{field}: expected a non-empty subset of \[.*\], got {re.escape(str(list(value)))}$"):
        Capabilities(**{field: value})


def test_capability_activations_may_be_empty_but_known():
    assert Capabilities(activations=()).activations == ()
    with raises(r"^capabilities.activations: expected a non-empty subset of \[.*\], got \['Relu', 'Swish'\]$"):
        Capabilities(activations=("Relu", "Swish"))


@pytest.mark.parametrize("value", [0, -2, 1.5, True])
def test_capability_max_layers(value):
    with raises(rf"^capabilities.max_layers: expected a positive integer, got {re.escape(repr(value))}$"):
        Capabilities(max_layers=value)


@pytest.mark.parametrize("field", ["max_batch", "max_size", "max_T"])
@pytest.mark.parametrize("value", [0, -1, 2.0, True])
def test_capability_max_batch_size_and_steps(field, value):
    with raises(rf"^capabilities.{field}: expected None or a positive integer, got {re.escape(repr(value))}$"):
        Capabilities(**{field: value})


def test_capability_padding():
    with raises(rf"^capabilities.padding: expected one of {re.escape(str(list(PADDING)))}, got 'garbage'$"):
        Capabilities(padding="garbage")


@pytest.mark.parametrize("field", ["initial_state", "lengths", "clip"])
def test_capability_flags(field):
    with raises(rf"^capabilities.{field}: expected a bool, got 1$"):
        Capabilities(**{field: 1})


def test_admits_names_the_first_missing_feature():
    caps = Capabilities(dtypes=("float32",), max_batch=1)
    c = case(x=np.ones((T, B, N_IN)), dtype="float32")
    assert caps.admits(c) == "batch 2 is not supported"
    assert Capabilities().admits(c) == "dtype float32 is not supported"
    assert Capabilities(dtypes=("float32",)).admits(c) is None
    assert Capabilities(dtypes=("float32",)).admits(case(lengths=[4, 2], dtype="float32")) == \
        "per-sequence lengths is not supported"
    assert Capabilities(dtypes=("float32",), max_size=N_IN - 1).admits(c).startswith(f"input_size {N_IN}")
    assert Capabilities(dtypes=("float32",), max_T=T - 1).admits(c) == f"a sequence of {T} steps is not supported"
