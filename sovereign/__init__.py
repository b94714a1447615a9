"""sovereign: a country-exclusion service for sovereign bonds, built on Freedom House's Freedom in the World."""

__version__ = "0.2.0"
