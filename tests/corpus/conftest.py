"""Corpus files are test data, never tests: nothing under this directory is collected."""

collect_ignore_glob = ["*"]
