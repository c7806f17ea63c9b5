"""The archive copy of a sent issue: a BagIt records package for the records office."""
