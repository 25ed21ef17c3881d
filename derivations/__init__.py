"""Checkable derivations of the paper's results, one module per group of
results, and of the results freeprob adds (correlated samples).  Each module has ``NAME``, ``TITLE`` and ``build() -> freeprob.Derivation``,
built by calling the library; :func:`registry` maps names to modules in the
order of the paper."""

from importlib import import_module

_MODULES = ("mp_s_transforms", "free_products", "deterministic_equivalence", "two_point", "linear_ridge",
            "isotropic_ridge", "kernel_ridge", "power_law_scaling", "random_features", "deep_chains",
            "anisotropic_weights", "feature_noise", "figure_spectra", "correlated_samples", "training_dynamics")


def registry() -> dict:
    """``{name: module}`` of every derivation, in the order of the paper."""
    out = {}
    for mod in _MODULES:
        m = import_module(f"{__name__}.{mod}")
        out[m.NAME] = m
    return out


REGISTRY = tuple(_MODULES)
