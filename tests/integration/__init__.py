"""Tests against the test cluster (real sockets, the real kubernetes clients), and the
packaging of the provider and of the test cluster."""
