"""Tables of cells in and out: CSV (UTF-8, UTF-8 with BOM, CP932) and Excel ``.xlsx``.

What imports and exports of any domain share, and nothing of any domain: which encoding a file
is in (and where it stops decoding), its header and rows with the row numbers Excel shows, and
cells written back safely (formulas neutralised, what CP932 cannot hold listed). The values of
the cells are judged elsewhere, by ``api/fields``.

- :mod:`api.tabular.encodings`: detect and check an encoding over the whole file, CP932's
  gaps and the characters that only look like a gap (〜 and its JIS/CP932 twins).
- :mod:`api.tabular.reader`: :func:`open_table` → header + rows, streamed.
- :mod:`api.tabular.writer`: CSV and ``.xlsx`` writers, streamed.
- :mod:`api.tabular.messages`: what each refusal says, in ja and en.
"""
