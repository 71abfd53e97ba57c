"""Kizuna's static-site pipeline: turns `content/` + a theme into `site/public` and `site/meta`.

Imports only the standard library, Pelican and Markdown (never Litestar or the API's web layer),
so a build can run on a machine that has no app running. The entry point is
`pipeline.build.build_site`.
"""
