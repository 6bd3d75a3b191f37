"""The calculus core: SymPy for exact results, NumPy for numbers. Knows nothing of HTTP."""
