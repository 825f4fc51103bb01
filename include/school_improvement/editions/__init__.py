"""Editions: the restricted and general editions (CSV, workbook, PDF), the draft letters, and their charts.

One module per job: `report` puts an edition together from `ReportInputs`; `confidentiality` is the one policy for
what the general edition leaves out; `tables` the CSV layouts and cell neutralisation; `workbook` report.xlsx;
`charts` the SVG charts; `front_page` and `profiles` what those pages say; `render` Jinja2 and the tagged PDF write;
`drafts` the draft letters; `cells` the small helpers they share; `pdf_pages` keeps the tagged PDF write linear in
pages.
"""
