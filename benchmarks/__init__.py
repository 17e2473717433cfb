"""Benchmark and check scripts, each run as ``python benchmarks/NAME.py`` (or ``python -m benchmarks.NAME``).

A package so that the tests and the scripts import their shared modules
(``cases``, ``load``, ``workloads``, ``scaling``) as ``benchmarks.<name>``.
"""
