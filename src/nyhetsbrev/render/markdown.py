"""Moved: the content model's Markdown lives in `nyhetsbrev.issue.markdown` (imports point down).

Only `render/environment.py` still imports it from here; this re-export goes when it is updated.
"""

from nyhetsbrev.issue.markdown import Block as Block
from nyhetsbrev.issue.markdown import blocks_html as blocks_html
from nyhetsbrev.issue.markdown import parse as parse
