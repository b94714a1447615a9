"""Parsers for Freedom House's Freedom in the World files, all producing one tidy frame layout."""

from scrapers.freedomhouse.scores_csv import read_scores_csv
from scrapers.freedomhouse.workbooks import read_workbook

__all__ = ["read_workbook", "read_scores_csv"]
