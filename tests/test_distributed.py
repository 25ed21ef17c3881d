"""Monte Carlo on Dask (freeprob.montecarlo._dask): a LocalCluster with two
worker processes gives the serial result bit for bit, and the arrays that
every task shares are sent once."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import freeprob
from freeprob.errors import ParameterError
from freeprob.montecarlo._dask import DaskMap

pytest.importorskip("distributed")


class _RecordingClient:
    """A stand-in for distributed.Client that records what would be sent."""

    def __init__(self):
        self.scattered, self.sent = [], []

    def scatter(self, obj, broadcast, hash):
        assert broadcast and not hash
        self.scattered.append(obj)
        return ("future", len(self.scattered) - 1)

    def map(self, fn, tasks, pure):
        self.sent = list(tasks)
        return [fn(tuple(self.scattered[v[1]] if isinstance(v, tuple) and v[:1] == ("future",) else v for v in t))
                for t in tasks]

    def gather(self, results):
        return results


def _task(t):
    sigma, lam, seed = t
    return float(sigma.sum() * lam.sum()) + seed


def test_shared_arrays_are_scattered_once_and_results_keep_the_task_order():
    sigma, lam = np.arange(1000.0), np.ones(3)
    client = _RecordingClient()
    out = DaskMap(client).map(_task, [(sigma, lam, s) for s in range(5)])
    assert out == [float(sigma.sum() * 3) + s for s in range(5)]
    assert len(client.scattered) == 2 and client.scattered[0] is sigma and client.scattered[1] is lam
    assert all(t[0] == ("future", 0) and t[1] == ("future", 1) for t in client.sent)   # not the arrays
    assert [t[2] for t in client.sent] == list(range(5))                              # per-task seeds stay


def test_scheduler_argument_is_checked():
    m = freeprob.LinearRidge(freeprob.PowerLaw(1.5, 50), samples=40, ridge=0.1)
    rng = np.random.default_rng(0)
    with pytest.raises(ParameterError, match="scheduler"):
        freeprob.simulate(m, seeds=3, rng=rng, scheduler=0)
    with pytest.raises(ParameterError, match="scheduler"):
        freeprob.simulate(m, seeds=3, rng=rng, scheduler=[1])
    with pytest.raises(ParameterError, match="scheduler"):
        freeprob.simulate(m, seeds=3, rng=rng, scheduler=2, executor=object())


_SCRIPT = textwrap.dedent("""
    import numpy as np, freeprob
    from freeprob.montecarlo._dask import dask_executor

    def same(a, b):
        return all(np.array_equal(a[k][0], b[k][0]) and np.array_equal(a[k][1], b[k][1]) for k in a)

    if __name__ == "__main__":
        pop = freeprob.PowerLaw(1.5, 300)
        models = [
            ("linear", freeprob.LinearRidge(pop, samples=200, noise=0.1, ridge=1e-2), 6, {}),
            ("random features", freeprob.RandomFeatureRidge(pop, widths=150, samples=200, noise=0.1,
                                                             feature_noise=0.05, ridge=1e-2), (4, 3), {}),
            ("gradient flow", freeprob.LinearRidge(pop, samples=200, noise=0.1,
                                                   estimator=freeprob.GradientFlow(time=1.0)), 4,
             {"sweep": {"time": np.array([1.0, 10.0])}}),
        ]
        with dask_executor(2) as ex:
            assert len(ex.client.scheduler_info()["workers"]) == 2
            for name, m, seeds, kw in models:
                serial = freeprob.simulate(m, seeds=seeds, rng=np.random.default_rng(11), **kw)
                dask = freeprob.simulate(m, seeds=seeds, rng=np.random.default_rng(11), executor=ex, **kw)
                assert set(serial) == set(dask), name
                assert same(serial, dask), name
                print(name, "identical")
            # a paper figure (crossed random-feature grid) built on the cluster
            from freeprob import figures
            a = figures.build("F13", fast=True)
            b = figures.build("F13", fast=True, executor=ex)
            for pa, pb in zip(a.panels, b.panels):
                for sa, sb in zip(pa.series, pb.series):
                    assert np.array_equal(np.asarray(sa.y, float), np.asarray(sb.y, float)), sa.label
                    assert (sa.yerr is None) == (sb.yerr is None)
                    if sa.yerr is not None:
                        assert np.array_equal(np.asarray(sa.yerr, float), np.asarray(sb.yerr, float)), sa.label
            print("figure identical")
""")


def test_local_cluster_equals_the_serial_run_bit_for_bit(tmp_path):
    # two worker processes against the serial run, for a linear model, a
    # crossed random-feature grid with feature noise, and a gradient-flow
    # sweep; both sides run the BLAS with one thread (Dask's workers do), so
    # the comparison is exact (see the module docstring of _dask)
    script = tmp_path / "dask_check.py"
    script.write_text(_SCRIPT)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONWARNINGS="ignore")
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.split().count("identical") == 4, res.stdout


def test_figures_command_runs_on_a_local_cluster(tmp_path):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    res = subprocess.run([sys.executable, "-m", "freeprob", "figures", "--only", "F12", "--fast", "--workers", "2",
                          "--out", str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert any(p.suffix == ".png" for p in tmp_path.iterdir())


@pytest.mark.parametrize("argv", [["--workers", "0"], ["--workers", "two"], ["--scheduler", "localhost; rm -rf"],
                                  ["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"]])
def test_figures_command_refuses_bad_cluster_options(argv, tmp_path):
    res = subprocess.run([sys.executable, "-m", "freeprob", "figures", "--only", "F12", "--fast", "--out",
                          str(tmp_path), *argv], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    assert "workers" in res.stderr or "scheduler" in res.stderr
