"""Checkpointed Monte Carlo (``freeprob.montecarlo._checkpoint``): a run
through :class:`CheckpointMap` equals the plain serial run bit for bit, a
second run reads every task back (in this process or another one, with
another string-hash seed), an interrupted run resumes with only its missing
tasks, and other code or an argument without a stable encoding is never
read back."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import freeprob as fp
from freeprob.montecarlo import _checkpoint
from freeprob.montecarlo._checkpoint import CheckpointMap, task_key

MODELS = {
    "random features": (fp.RandomFeatureRidge(fp.PowerLaw(1.5, 100), widths=60, samples=80, noise=0.2,
                                              ridge=0.05, feature_noise=0.1), (5, 4)),
    "random features, gradient flow": (fp.RandomFeatureRidge(fp.PowerLaw(1.5, 100), widths=60, samples=80,
                                                             noise=0.2, estimator=fp.GradientFlow(3.0)), (4, 4)),
    "linear": (fp.LinearRidge(fp.PowerLaw(1.5, 100), samples=80, noise=0.2, ridge=0.05), 5),
}


def _same(a, b):
    assert set(a) == set(b)
    for k in a:
        for x, y in zip(a[k], b[k]):
            assert np.array_equal(np.asarray(x), np.asarray(y)), k


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_checkpointed_run_equals_the_serial_run_and_reads_back(name, tmp_path):
    model, seeds = MODELS[name]
    plain = fp.simulate(model, seeds=seeds, rng=np.random.default_rng(3))
    first = CheckpointMap(tmp_path)
    _same(fp.simulate(model, seeds=seeds, rng=np.random.default_rng(3), executor=first), plain)
    assert first.hits == 0 and first.misses > 0
    again = CheckpointMap(tmp_path)
    _same(fp.simulate(model, seeds=seeds, rng=np.random.default_rng(3), executor=again), plain)
    assert again.hits == first.misses and again.misses == 0
    # another generator: other seeds, other tasks
    other = CheckpointMap(tmp_path)
    fp.simulate(model, seeds=seeds, rng=np.random.default_rng(4), executor=other)
    assert other.hits == 0


def test_an_interrupted_run_resumes_with_its_missing_tasks(tmp_path):
    model, _ = MODELS["linear"]
    plain = fp.simulate(model, seeds=6, rng=np.random.default_rng(5))
    fp.simulate(model, seeds=6, rng=np.random.default_rng(5), executor=CheckpointMap(tmp_path))
    files = sorted(tmp_path.rglob("*.npz"))
    assert len(files) == 6
    for f in files[:2]:
        f.unlink()
    resumed = CheckpointMap(tmp_path)
    _same(fp.simulate(model, seeds=6, rng=np.random.default_rng(5), executor=resumed), plain)
    assert (resumed.hits, resumed.misses) == (4, 2)


def test_the_keys_are_the_same_in_another_process(tmp_path):
    """Another interpreter with another string-hash seed writes the
    results; this one reads every task back."""
    code = ("import numpy as np, freeprob as fp, sys\n"
            "from freeprob.montecarlo._checkpoint import CheckpointMap\n"
            "m = fp.RandomFeatureRidge(fp.PowerLaw(1.5, 100), widths=60, samples=80, noise=0.2, ridge=0.05,"
            " feature_noise=0.1)\n"
            "fp.simulate(m, seeds=(5, 4), rng=np.random.default_rng(3), executor=CheckpointMap(sys.argv[1]))\n")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, env=env, timeout=300)
    model, seeds = MODELS["random features"]
    ex = CheckpointMap(tmp_path)
    _same(fp.simulate(model, seeds=seeds, rng=np.random.default_rng(3), executor=ex),
          fp.simulate(model, seeds=seeds, rng=np.random.default_rng(3)))
    assert ex.hits > 0 and ex.misses == 0


def test_other_code_or_an_unstable_argument_is_never_read_back(tmp_path, monkeypatch):
    model, seeds = MODELS["linear"]
    fp.simulate(model, seeds=seeds, rng=np.random.default_rng(3), executor=CheckpointMap(tmp_path))
    monkeypatch.setattr(_checkpoint, "_source_digest", lambda: "other source")
    ex = CheckpointMap(tmp_path)
    fp.simulate(model, seeds=seeds, rng=np.random.default_rng(3), executor=ex)
    assert ex.hits == 0 and ex.misses == seeds

    class Opaque:
        pass

    assert task_key(len, (np.arange(3), Opaque())) is None
    assert task_key(len, (np.arange(3), 1.5)) == task_key(len, (np.arange(3), 1.5))
    assert task_key(len, (np.arange(3), 1.5)) != task_key(len, (np.arange(3.0), 1.5))   # the dtype counts
    ex = CheckpointMap(tmp_path / "opaque")
    assert ex.map(lambda t: t[0] + 1, [(1, Opaque())]) == [2]
    assert ex.misses == 1 and not (tmp_path / "opaque").exists()


def test_results_round_trip_their_types(tmp_path):
    val = {"a": np.arange(6.0).reshape(2, 3), "b": [1, 2.5, None, True], "c": (np.float64(3.0), 1j),
           "d": {"e": np.array([], dtype=np.int64)}}
    ex = CheckpointMap(tmp_path)
    ex.map(lambda t: val, [(1,)])
    back = CheckpointMap(tmp_path).map(lambda t: None, [(1,)])[0]
    assert back["b"] == [1, 2.5, None, True] and [type(v) for v in back["b"]] == [int, float, type(None), bool]
    assert back["c"][1] == 1j and isinstance(back["c"], tuple) and back["c"][0] == 3.0
    assert np.array_equal(back["a"], val["a"]) and back["d"]["e"].dtype == np.int64


def test_cli_figures_with_a_checkpoint(tmp_path):
    from freeprob.app.cli import main

    out, ck = tmp_path / "figs", tmp_path / "ck"
    assert main(["figures", "--only", "F12", "--fast", "--checkpoint", str(ck), "--out", str(out)]) == 0
    stored = sorted(ck.rglob("*.npz"))
    assert stored and (out / "F12_unstructured_LRF.png").is_file()
    assert main(["figures", "--only", "F12", "--fast", "--checkpoint", str(ck), "--out", str(out)]) == 0
    assert sorted(ck.rglob("*.npz")) == stored
    with pytest.raises(SystemExit):
        main(["figures", "--only", "F12", "--checkpoint", "", "--out", str(out)])
