"""Collection rules for the doctests of the package modules."""

from importlib.util import find_spec

# The skpro adapter imports skpro at import time (an optional extra, part of
# the test extra); without skpro its doctests cannot be collected.
collect_ignore = [] if find_spec("skpro") else ["skquantile/skpro.py"]
