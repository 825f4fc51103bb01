"""Quality: is the term's data fit to decide on? Great Expectations suites per feed, the feed set, data age.

`checks` holds the suites' runner, the feed-set and data-age checks, and the notes they put on the front page.
"""
