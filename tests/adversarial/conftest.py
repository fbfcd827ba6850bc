from tests.sandbox.support import backend, bwrap_backend, docker_backend, host_unaffected

__all__ = ["backend", "bwrap_backend", "docker_backend", "host_unaffected"]
