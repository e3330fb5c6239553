"""The output folder of `verify prm train`: written only when it is new, empty or our own.

A training run writes its weights, `prm_spec.json`, `train_config.json` and `train_log.jsonl`
into `--out`, replacing files of those names, and starts the log afresh. A folder is taken only
when that can lose nothing that is not ours: it does not exist, is empty, or holds an earlier
training run's output (a `train_config.json` we wrote, or a log whose every line is one of our
step records), and never when it holds a `train_log.jsonl` of something else. A `--resume` run is
not checked here: it needs our checkpoint in the folder (`prm.train.find_checkpoint`).

>>> import tempfile, pathlib; d = pathlib.Path(tempfile.mkdtemp())
>>> check_train_dir(d / "new"), check_train_dir(d)
(None, None)
>>> _ = (d / "notes.txt").write_text("mine")
>>> check_train_dir(d)
Traceback (most recent call last):
...
verify.errors.InputError: ...: holds files that are not a PRM training run's output (notes.txt); nothing was written: choose a new or empty --out
"""
from __future__ import annotations

import json
from pathlib import Path

from verify.errors import InputError

LOG_FILE = "train_log.jsonl"
CONFIG_FILE = "train_config.json"
_CONFIG_KEYS = ("base_model", "out_dir", "spec")  # TrainConfig fields every run writes
_LOG_KEYS = ("step", "loss")                      # fields of every step record


def _our_config(path: Path) -> bool:
    try:
        conf = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(conf, dict) and all(k in conf for k in _CONFIG_KEYS)


def _our_log(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                if not isinstance(rec, dict) or not all(k in rec for k in _LOG_KEYS):
                    return False
    except (OSError, ValueError):
        return False
    return True


def check_train_dir(out_dir: str | Path) -> None:
    """Refuse (`InputError` naming the folder) an `--out` that a training run could harm."""
    out = Path(out_dir)
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError("is not a directory; --out takes a folder for the trained PRM", path=str(out))
    entries = sorted(p.name for p in out.iterdir())
    if not entries:
        return
    log, conf = out / LOG_FILE, out / CONFIG_FILE
    if log.exists() and not _our_log(log):
        raise InputError(f"holds a {LOG_FILE} that is not a training log of ours; nothing was written: "
                         "choose a new or empty --out", path=str(out))
    if (conf.exists() and _our_config(conf)) or log.exists():
        return
    shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
    raise InputError(f"holds files that are not a PRM training run's output ({shown}); nothing was written: "
                     "choose a new or empty --out", path=str(out))
