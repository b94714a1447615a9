"""Freedom in the World: FH's rules, words and the tidy layout every parser returns.

Shared by `scrapers` (which fetches and parses) and `sovereign` (which judges and stores); it imports
neither. Nothing here loads polars at import time except `fiw.tidy`.
"""
