"""Benchmarks: one package per subject, each runnable with one command (see docs/benchmarks.md)."""
