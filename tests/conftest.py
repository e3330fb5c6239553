"""Shared test fixtures: the location of ../shared/data (tests skip cleanly without it), one torch thread."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture
def torch_one_thread():
    """Run the test with one torch thread, then restore the count: on two busy cores a tiny model
    is many times faster on one thread than on two fighting other processes."""
    torch = pytest.importorskip("torch")  # here, not at import: most tests run without torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
