"""Acquiring Freedom House data: fetching and parsing. Returns tidy frames; knows nothing of policy."""
