"""Pieces shared by the benchmarks: databases, the server under test, the HTTP load loop and statistics."""
