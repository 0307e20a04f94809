"""sim.vectors.exhaustive_pairs / exhaustive_chunks: every operand pair, in bounded memory."""

import itertools

import numpy as np
import pytest

from lpmac.errors import LimitError
from lpmac.sim import vectors as vec


@pytest.mark.parametrize("width", [1, 3, 5])
def test_pairs_are_every_pair_in_order(width):
    a, b = vec.exhaustive_pairs(width)
    want = list(itertools.product(range(1 << width), repeat=2))  # a-major, as documented
    assert a.dtype == b.dtype == np.uint64
    assert list(zip(a.tolist(), b.tolist())) == want


def test_a_slice_is_the_same_slice_of_the_whole():
    a, b = vec.exhaustive_pairs(4)
    part = vec.exhaustive_pairs(4, 37, 200)
    assert np.array_equal(part[0], a[37:200]) and np.array_equal(part[1], b[37:200])


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000])
def test_chunks_concatenate_to_the_whole(chunk):
    chunks = list(vec.exhaustive_chunks(3, chunk))
    assert all(len(x) == len(y) <= chunk for x, y in chunks)
    assert sum(len(x) for x, _ in chunks) == 64
    a, b = vec.exhaustive_pairs(3)
    assert np.array_equal(np.concatenate([x for x, _ in chunks]), a)
    assert np.array_equal(np.concatenate([y for _, y in chunks]), b)


def test_a_16_bit_space_streams_in_bounded_chunks():
    with pytest.raises(LimitError, match=r"4294967296 pairs at once .* exhaustive_chunks\(16\)"):
        vec.exhaustive_pairs(16)  # 2^32 pairs, 64 GiB as two uint64 arrays
    chunks = vec.exhaustive_chunks(16)
    a, b = next(chunks)
    assert len(a) == vec.EXHAUSTIVE_CHUNK
    assert (int(a[0]), int(b[0]), int(a[-1]), int(b[-1])) == (0, 0, 15, 65535)
    a, b = next(chunks)
    assert (int(a[0]), int(b[0])) == (16, 0)
    last = vec.exhaustive_pairs(16, (1 << 32) - 2)  # the tail, without the rest
    assert last[0].tolist() == [65535, 65535] and last[1].tolist() == [65534, 65535]


@pytest.mark.parametrize(
    "args", [(0,), (-1,), (2.0,), (True,), ("8",), (4, -1), (4, 5, 3), (4, 0, 257)]
)
def test_bad_arguments(args):
    with pytest.raises(ValueError, match="exhaustive_pairs: "):
        vec.exhaustive_pairs(*args)


@pytest.mark.parametrize("chunk", [0, -5, 1.5, True])
def test_bad_chunk(chunk):
    with pytest.raises(ValueError, match="exhaustive_chunks: chunk must be a positive int"):
        next(vec.exhaustive_chunks(4, chunk))
