"""profile_many on a dask.distributed cluster through its concurrent.futures executor (extra [dask])."""
from __future__ import annotations

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import netscore_fast as nf  # noqa: E402
from netscore_fast import nas  # noqa: E402


def _assert_same(a, b):
    assert a.columns == b.columns
    for c in a.columns:
        if a[c].dtype == object:
            assert list(a[c]) == list(b[c]), c
        else:
            np.testing.assert_array_equal(a[c], b[c], err_msg=c)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_executor_matches_local_run(client):
    models = [(nas.nasbench201_arch(i), nas.nasbench201(i)) for i in range(0, 15625, 701)]
    models.insert(3, ("broken", b"\x0a\xff\xff"))
    accuracy = {name: 60.0 + k for k, (name, _) in enumerate(models)}
    local = nf.profile_many(models, accuracy=accuracy, progress=False)
    with client.get_executor() as ex:
        remote = nf.profile_many(iter(models), accuracy=accuracy, executor=ex, chunk_size=4, progress=False)
    _assert_same(local, remote)
    assert remote[3]["error"] and remote.ok.sum() == len(models) - 1
    expected = nf.profile(models[0][1], accuracy=60.0)
    assert remote[0]["macs"] == expected.macs and remote[0]["netscore"] == pytest.approx(expected.netscore)


def test_dask_executor_with_cache_and_paths(client, tmp_path):
    paths = []
    for i in range(5):
        p = tmp_path / f"m{i}.onnx"
        p.write_bytes(nas.nasbench201(i))
        paths.append(str(p))
    db = str(tmp_path / "c.db")
    with client.get_executor() as ex:
        first = nf.profile_many(paths, executor=ex, cache=db, chunk_size=2, progress=False)
        second = nf.profile_many(paths, executor=ex, cache=db, chunk_size=2, progress=False)
    _assert_same(first, second)
    _assert_same(first, nf.profile_many(paths, progress=False))
    from netscore_fast.cache import ResultCache
    with ResultCache(db) as c:
        assert len(c) == 10   # a path key and a content key per model
