"""Sphinx configuration of the skquantile documentation.

Build the HTML pages from the repository root with::

    python -m sphinx -W --keep-going -b html doc doc/_build/html

The build needs no network access: cross-references to other projects
(intersphinx) are deliberately left out.
"""

import skquantile

# -- Project -----------------------------------------------------------------

project = "skquantile"
author = "skquantile developers"
copyright = "skquantile developers"
release = skquantile.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# -- autodoc / autosummary ----------------------------------------------------

autosummary_generate = True
# The class template (_templates/autosummary/class.rst) chooses the methods to
# document, so autodoc adds no members of its own.
autodoc_default_options = {}
autodoc_typehints = "none"

# -- numpydoc ------------------------------------------------------------------

# The class template lists the methods itself; numpydoc must not add a second
# (and toctree-generating) table of members.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- sphinx-gallery ----------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "plot_",
    "download_all_examples": False,
    "doc_module": ("skquantile",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skquantile": None},
    "matplotlib_animations": False,
    "remove_config_comments": True,
    # Keep the timings on the console: an sg_execution_times.rst page would
    # be written into the source tree, outside the ignored build folders.
    "write_computation_times": False,
}

# -- HTML ----------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skquantile {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_show_sourcelink = False
