"""Demo and test data: a fictional LA's feeds in the real DfE, Ofsted and GIAS formats.

Kept out of the production package `school_improvement`, which never imports it (a test checks): the pipeline
runs on an LA's downloads; this package only makes believable ones, with fictional names, for `make run`, the
tests and the benchmarks. Run it as `python -m demo_feeds --out landing --la 999`.
"""
