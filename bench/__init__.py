"""Benchmarks: each prints its figures and the same-run ratios its issue asks for."""
