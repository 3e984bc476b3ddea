"""Built Keras layers, one per padded layer structure, and the LRU cache that keeps them.

A layer is built once and its weights assigned per case; it runs eagerly at first and is
compiled once used often (see adapters.py for the schedule and why).
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from contextlib import contextmanager, nullcontext

import keras
from keras import ops

from .upstream import BACKEND, ZERO_INIT

#: from this many steps a layer runs compiled at its first call (where the schedule compiles at all):
#: an eager step costs milliseconds, a trace a fixed ~0.1-0.5 s
LONG = 32


class _Layer:
    """One built Keras layer (GRU, go_backwards GRU or Bidirectional GRU) of one padded structure.

    One layer serves the four ways of calling it (with or without an initial state, with or without
    a mask), each called as the case asks, so a layer is built once for all four; what is compiled
    is compiled per way of calling (a tf.function per input signature).
    ``compile_after``: eager calls before the layer runs compiled (None: never; 0: at once), counted
    per way of calling, and per input shape on JAX (jax.jit compiles per shape). ``optimized``: compile
    with the framework's own optimizations (Grappler, XLA fusion), as a model's fit or predict does; otherwise compile
    without them, which gives the eager call's bits (tests/frameworks/keras/test_keras_adapters.py).
    The call includes the flip of a go_backwards layer's output back to time order.
    """

    def __init__(self, key: tuple, compile_after: int | None, optimized: bool):
        """``compile_after`` does not wait for a sequence of LONG steps or more: its eager call costs
        more than a trace (TensorFlow: ~7 s eager at T=300, two bidirectional layers)."""
        S_in, S_H, direction, reset_after, bias, dtype = key
        self.S_in, self.S_H, self.dtype, self.reverse = S_in, S_H, dtype, direction == "reverse"
        self.D = 2 if direction == "bidirectional" else 1

        def gru(go_backwards):
            return keras.layers.GRU(S_H, reset_after=reset_after, use_bias=bias, go_backwards=go_backwards,
                                    return_sequences=True, return_state=True, dtype=dtype, **ZERO_INIT)

        layer = gru(self.reverse)
        if self.D == 2:  # an explicit backward layer: Keras would otherwise clone the forward one from its config
            layer = keras.layers.Bidirectional(layer, backward_layer=gru(True), merge_mode="concat", dtype=dtype)
        layer.build((None, None, S_in))
        self.layer, self.variables = layer, list(layer.weights)  # == get_weights() order
        self.compile_after, self.optimized = compile_after, optimized
        self.uses, self._compiled = Counter(), {}  # per (has_h0, has_mask)[, shape]; per (has_h0, has_mask)

    def __call__(self, arrays: list, x, h0, mask):
        """arrays: the weight list; x (B, T, S_in); h0: D arrays (B, S_H) or None; mask (B, T) or None."""
        way = (h0 is not None, mask is not None)
        use = (way, x.shape if BACKEND == "jax" else None)
        compiled = self.compile_after is not None and (self.uses[use] >= self.compile_after or x.shape[1] >= LONG)
        self.uses[use] += 1
        if compiled and BACKEND == "jax":  # jax.jit is stateless: the weights are arguments
            if way not in self._compiled:
                self._compiled[way] = self._jax_function()
            return self._compiled[way](arrays, x, h0, mask)
        for variable, a in zip(self.variables, arrays, strict=True):
            variable.assign(a)
        if compiled:
            if way not in self._compiled:
                self._compiled[way] = self._tf_function(*way)
            return self._compiled[way](x, h0, mask)
        if BACKEND == "jax":
            import jax

            with jax.disable_jit():  # lax.scan's steps as Python: op by op, no XLA compile per structure
                return self._call(x, h0, mask)
        return self._call(x, h0, mask)

    def _call(self, x, h0, mask):
        y, *states = self.layer(x, initial_state=h0, mask=mask)
        if self.reverse:
            y = ops.flip(y, axis=1)  # processing order -> time order
        return y, states

    def _tf_function(self, has_h0: bool, has_mask: bool):
        import tensorflow as tf

        dt = tf.as_dtype(self.dtype)
        sig = [tf.TensorSpec((None, None, self.S_in), dt)]  # any T and B: one trace per way of calling
        if has_h0:
            sig.append([tf.TensorSpec((None, self.S_H), dt)] * self.D)
        if has_mask:
            sig.append(tf.TensorSpec((None, None), tf.bool))

        def forward(*args):
            x, rest = args[0], list(args[1:])
            h0 = rest.pop(0) if has_h0 else None
            return self._call(x, h0, rest.pop(0) if has_mask else None)

        fn = tf.function(forward, input_signature=sig)
        options = nullcontext if self.optimized else _tf_plain_graph

        def call(x, h0, mask):
            with options():
                return fn(x, *(a for a in (h0, mask) if a is not None))

        return call

    def _jax_function(self):
        import jax

        def pure(values, x, h0, mask):
            with keras.StatelessScope(state_mapping=list(zip(self.variables, values, strict=True))):
                return self._call(x, h0, mask)

        return jax.jit(pure, compiler_options=None if self.optimized else JAX_PLAIN)  # one compile per shape


#: XLA options under which a jitted layer gives the op-by-op bits: no fusion (a fused step rounds
#: float32 differently in the last bit); without LLVM optimization, which compiles faster.
JAX_PLAIN = {"xla_disable_hlo_passes": "fusion", "xla_backend_optimization_level": 0}


@contextmanager
def _tf_plain_graph():
    """tf.function calls in this thread without Grappler's rewrites, so that a compiled layer
    computes what the eager layer computes, bit for bit (with them, bfloat16 results differ in the
    last bits), and its first call is cheaper. The thread's own call options, Grappler off; nothing
    else is affected."""
    from tensorflow.core.protobuf import config_pb2
    from tensorflow.python.eager import context

    ctx = context.context()
    old = ctx.function_call_options
    if old.config_proto_serialized not in _TF_PLAIN:
        config = config_pb2.ConfigProto.FromString(old.config_proto_serialized)
        config.graph_options.rewrite_options.disable_meta_optimizer = True
        _TF_PLAIN[old.config_proto_serialized] = config
    ctx.function_call_options = context.FunctionCallOptions(old.executor_type, _TF_PLAIN[old.config_proto_serialized])
    try:
        yield
    finally:
        ctx.function_call_options = old


_TF_PLAIN: dict = {}  # the thread's serialized config -> the same without Grappler


class _Cache:
    """The most recently used layers, so that a long run does not grow without bound."""

    def __init__(self, size: int):
        self.size, self.items = size, OrderedDict()

    def get(self, key, make):
        if self.size == 0:
            return make()
        if key in self.items:
            self.items.move_to_end(key)
        else:
            self.items[key] = make()
            if len(self.items) > self.size:
                self.items.popitem(last=False)
        return self.items[key]


#: the default schedule (``compiled`` None): after how many eager calls a layer runs compiled (per
#: input shape on JAX), and whether with the framework's optimizations (else with the eager bits).
#: TensorFlow: a trace and first call cost about four eager calls of a small layer (~0.075 s vs ~0.02 s).
#: JAX: a plain jit compile costs about 35 op-by-op calls (~0.45 s vs ~0.013 s). Op by op, the keras
#: tests run in half the time they take under jax.jit from the first call (~95 s vs ~170 s), though a
#: stream of new structures costs about the same (~12 vs ~9 examples/s, benchmarks/bench_keras.py).
#: torch: eager.
