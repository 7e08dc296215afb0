"""The API server's HTTP front over the registry: sockets and TLS, routing, request
parsing, the resource handlers, discovery and OpenAPI, protobuf, kubectl Tables, bearer
tokens and RBAC, fault injection. It imports only itself, ``registry`` and
``clock``; nothing but the top (``cluster``, the CLI) imports it.
"""
