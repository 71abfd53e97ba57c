"""Access: who may read a page or a file of the site (DESIGN.md "Access rules"). See README.md.

``api.access.rules`` is the rule language; the pipeline imports it at build time, so this
package's ``__init__`` imports nothing (a domain declaration belongs in ``domain.py``, never
here: importing ``api.access.rules`` must not load Litestar or the database).
"""
