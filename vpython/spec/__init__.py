"""Spec model, parsers, discovery and normalization."""
