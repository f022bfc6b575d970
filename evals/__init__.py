"""Evaluation commands (``python -m evals <suite>``); each prints one JSON object last.

Not built yet: see the evaluation harness issue.
"""
