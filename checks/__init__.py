"""Scoring a finished run against its checks (`scenarios.checkspec`).

Deterministic checks, a user's own `python:` scorer, and an LLM judge.
"""
