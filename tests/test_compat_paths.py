"""The old module paths of 0.1 still import, warn, and are the very same module objects."""
from __future__ import annotations

import importlib
import warnings

import pytest

from verify._compat import MOVED


@pytest.mark.parametrize("old,new", sorted(MOVED.items()))
def test_old_path_is_the_new_module_with_a_warning(old, new):
    import sys

    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mod = importlib.import_module(old)
    assert mod is importlib.import_module(new)
    assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message) for w in caught)


def test_front_door_loads_no_numpy_scipy_or_torch():
    import subprocess
    import sys

    code = ("import sys, verify; from verify import check, extract_answer, equivalent, Verdict; "
            "assert check('1/2', '0.5').equal; "
            "print(sorted(m for m in ('numpy', 'scipy', 'torch', 'transformers', 'vllm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_vllm_step_scorer_is_gone_from_sampling():
    import verify.sampling.vllm_backend as vb

    assert not hasattr(vb, "VLLMStepScorer")  # moved to prm.vllm_scorer in 0.2 (CHANGELOG): sampling imports no prm
