"""Selection: aggregators (majority, weighted vote, best-of-N), their exact estimators, and
grading of traces by mathematical equivalence.

`aggregate` holds the method registry and the aggregators, `estimators` the exact
(and Monte-Carlo) accuracy estimators, `grading` the grouping of answers by equivalence.
"""
