"""The test cluster itself (API server, registry, control plane, nodes) against real clients."""
