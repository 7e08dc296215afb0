"""Tests that run the test cluster: real sockets, the real kubernetes clients, kubectl."""
