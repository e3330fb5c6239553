"""Process reward models: step-tag specs, one-pass scorer, trainer and evaluation.

torch and transformers are imported only inside the modules that need them.
"""
import verify  # noqa: E402,F401  (installs the old-module-path aliases of verify._compat)
