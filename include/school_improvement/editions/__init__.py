"""Editions: the restricted and general editions (CSV, workbook, PDF), the draft letters, and their charts.

`report` applies the one confidentiality policy and renders, `workbook` writes report.xlsx, `pdf_pages` keeps the
tagged PDF write linear in pages.
"""
