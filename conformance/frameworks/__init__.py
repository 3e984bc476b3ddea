"""One package per framework, each holding its converter (canonical weights <-> the
framework's layout), its adapters and its upstream facts; plus what they share: size
padding (padding.py) and the oracle as a built-in (reference.py).

Nothing outside this package imports a framework: the engine reaches the adapters only
through the loader and the data in conformance.builtins.
"""
