"""Health-authority indicators (issue 15 point 1): facts extracted at write time, rolled up in
MongoDB, queried with aggregation pipelines (query.py is the interface, indicators.py computes)."""
