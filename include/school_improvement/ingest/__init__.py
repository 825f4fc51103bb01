"""Ingest: the term's feeds as the DfE, Ofsted, GIAS and the LA publish them.

`feeds` reads and recognises each file kind (suppression codes kept with their reason), `links` reads the GIAS
links file, `sources` fetches the public files, and `termdata` assembles the LA's schools and their rows for a term.
"""
