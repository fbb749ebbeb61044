"""A venue's staff, listed by its owner: left out of its footfall and mayorship."""
