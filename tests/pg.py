"""The tests' PostgreSQL helpers: server/ops/pgcluster.py (shared with bench/load.py)."""

from server.ops.pgcluster import find_pg_bin, free_port, throwaway_cluster

__all__ = ["find_pg_bin", "free_port", "throwaway_cluster"]
