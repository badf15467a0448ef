"""Fixtures for fledge: each module triggers exactly one rule, marked with an "expect" comment naming the rule.

Ground truth (what real flytekit 1.16.31 does with each file) is recorded in
tests/ground_truth/expected_rules.json and checked by tests/ground_truth/check.py.
"""
