"""Selection: aggregators (majority, weighted vote, best-of-N), their exact estimators, and
grading of traces by mathematical equivalence.

`methods` holds the method registry (one entry per method with its traits) and the spec
grammar, `aggregate` the aggregators, `estimators` the exact (and Monte-Carlo) accuracy
estimators, `grading` the grouping of answers by equivalence.
"""
