"""The analytic module: the binomial majority-vote formula, heterogeneous-accuracy models,
fits to published reports and to your own samples, and their plots.

`model` holds the formulas, `fit` the fits against the DeepSeek-R1 AIME report, `samples`
the fit to a samples file, `plot` the figures (matplotlib imported there only).
"""
from verify.analytic.model import (beta_params, geometric_profile, heterogeneous_accuracy, majority_accuracy,  # noqa: F401
                                   pays_range, plurality_accuracy, plurality_table, posterior_accuracy,
                                   sampling_se, voting_gain)
