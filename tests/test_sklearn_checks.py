"""scikit-learn's estimator checks over ``densumap.UMAP`` (issue 6).

Every check runs and passes (check_array_api_input skips itself unless
SCIPY_ARRAY_API is set: densumap's kernels need NumPy arrays). The checks that
compare ``fit(X).transform(X)`` with ``fit_transform(X)`` pass because a row
identical to a training row is given its fitted position (issue 13).
"""
from sklearn.utils.estimator_checks import parametrize_with_checks

import densumap


# Few epochs: the checks test the plumbing, not the quality of the embedding.
@parametrize_with_checks([densumap.UMAP(n_epochs=20, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
