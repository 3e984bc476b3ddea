"""The built-in adapters, by name. Each is imported only when it is loaded, so that a
missing framework makes that adapter unavailable rather than breaking the package."""

BUILTINS = {
    "reference": "conformance.adapters.reference:ReferenceAdapter",
}
