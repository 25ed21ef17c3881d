"""Checkable derivations of the paper's results (one module per group of
results), built by calling the library; filled in as the models land."""

REGISTRY: tuple = ()
