"""Quality: is the term's data fit to decide on?

`suites` runs one Great Expectations suite per feed (critical stops the run, warnings go to data_quality.csv),
`feed_set` says which files the run takes and which kinds are missing, `data_age` how old the figures are, and
`notes` turns what the reader must know into the front page's sentences.
"""
