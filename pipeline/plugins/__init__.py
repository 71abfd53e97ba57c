"""Kizuna's Pelican plugins: one concern per module, each with a `register()`.

`build_record` writes `meta/build.json` (what the build wrote, from which source). The access
manifest, content index and nginx map plugins of later issues go here too, one module each.
"""
