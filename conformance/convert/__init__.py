"""Converters between the canonical weights and each framework's own layout.

Each framework has its own module here (``conformance.convert.torch``, ...); none is
imported by this package, so that importing ``conformance`` never needs a framework.
"""
