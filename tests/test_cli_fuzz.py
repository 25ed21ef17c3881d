"""A fuzz test of the command line (issue 14): for argument strings drawn
from valid and hostile values, ``freeprob`` exits with status 0 or 2, never
raises (no traceback), and prints valid JSON whenever ``--format json``
succeeds."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from freeprob.app.cli import main

HOSTILE = ["q", "oo", "-oo", "nan", "inf", "pi", "I", "E", "1e400", "1e999999", "-1", "0", "0.5", "1/0",
           "1/3", "2", "100", "1e-3", "1,2", "100,oo", ",", "", " ", "__import__('os').system('true')",
           "lambda", "1.5", "3|4", "2**10", "1e-320", "-0", "+7"]
NUMBER = st.one_of(st.sampled_from(HOSTILE), st.integers(-5, 400).map(str),
                   st.floats(allow_nan=True, allow_infinity=True).map(repr))


def _run(argv):
    lines = []
    try:
        code = main(argv, out=lines.append)
    except SystemExit as exc:          # argparse: usage errors exit 2
        code = exc.code
    return code, "\n".join(lines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples=NUMBER, ridge=NUMBER, noise=NUMBER, dim=NUMBER, fmt=st.sampled_from(["json", "text"]))
def test_ridge_command(samples, ridge, noise, dim, fmt):
    argv = ["ridge", "--population", f"identity:dimension={dim}", "--samples", samples, "--ridge", ridge,
            "--noise", noise, "--format", fmt]
    code, out = _run(argv)
    assert code in (0, 2), argv
    if code == 0 and fmt == "json":
        data = json.loads(out)            # strict JSON: NaN would not parse
        assert "NaN" not in out and set(data) >= {"kappa", "Eg"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(widths=NUMBER, fnoise=NUMBER, seed=NUMBER, target=st.sampled_from(["source:r=q", "source:r=0.5", "bogus",
                                                                          "isotropic", "source:r=-1"]))
def test_features_command(widths, fnoise, seed, target):
    argv = ["features", "--population", "powerlaw:alpha=1.5,n=50", "--samples", "40", "--widths", widths,
            "--feature-noise", fnoise, "--seed", seed, "--target", target, "--format", "json"]
    code, out = _run(argv)
    assert code in (0, 2), argv
    if code == 0:
        json.loads(out)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=NUMBER, kind=st.sampled_from(["moments", "stieltjes", "density", "df1"]),
       order=st.sampled_from(["3", "0", "-1", "100000", "x"]))
def test_transform_command(value, kind, order):
    argv = ["transform", "marchenko-pastur", "--param", f"ratio={value}", "--kind", kind, "--order", order,
            "--format", "json"]
    code, out = _run(argv)
    assert code in (0, 2), argv
    if code == 0:
        json.loads(out)
