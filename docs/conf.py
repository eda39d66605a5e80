"""Sphinx configuration for the gincore-chats documentation.

Builds offline: extensions bundled with Sphinx and the local ones in _ext/, no intersphinx.
"""

from __future__ import annotations

import os
import sys

# autodoc imports the package from this checkout, not from site-packages.
sys.path.insert(0, os.path.abspath(".."))
# Local extensions (the REST API reference is rendered from the OpenAPI document).
sys.path.insert(0, os.path.abspath("_ext"))

project = "gincore-chats"
author = "gincore-chats contributors"
copyright = "gincore-chats contributors"

try:
    from gincore_chats import __version__ as release
except Exception:  # the docs must build even if the package cannot be imported
    release = "0.1.0"
version = release

extensions = [
    "sphinx.ext.autodoc",
    "openapi_reference",
]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"

templates_path: list[str] = []
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
root_doc = "index"
language = "en"
pygments_style = "sphinx"

html_theme = "alabaster"
html_static_path: list[str] = []
html_title = f"gincore-chats {release}"
html_theme_options = {
    "description": "Live chat and an omnichannel customer inbox for any Flask app",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}
