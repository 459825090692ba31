"""Test configuration."""

import os

# scikit-learn's array-API estimator check is skipped unless SciPy's array-API
# support is switched on; switch it on so that the check runs.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
