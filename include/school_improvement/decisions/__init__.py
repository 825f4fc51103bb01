"""Decisions: what the rule set makes of the evidence.

`categorise` places each maintained school at a level of support, `letters` flags the letters due, the academies
of concern and the elected members to tell, and `what_if` compares two rule sets on one term.
"""
