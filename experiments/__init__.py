"""Experiments: frameworks × models × inputs × repeats, scored by checks, summarised honestly."""
