"""Where the project's own small data files (`data/`) are: the source tree for a checkout or
editable install, `<prefix>/share/ttc-verify/data` for a wheel install."""
from __future__ import annotations

import sys
from pathlib import Path

SOURCE_DATA = Path(__file__).resolve().parents[1] / "data"
INSTALLED_DATA = Path(sys.prefix) / "share" / "ttc-verify" / "data"


def data_path(name: str) -> Path:
    """Path of `data/<name>`: the source tree's copy when present, else the installed one.

    >>> data_path("aime24_r1_report.json").name
    'aime24_r1_report.json'
    """
    src = SOURCE_DATA / name
    if src.exists() or not (INSTALLED_DATA / name).exists():
        return src
    return INSTALLED_DATA / name
