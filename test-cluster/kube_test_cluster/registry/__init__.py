"""The registry: the object store (what etcd plus the apiserver's registry do) and the
API's object semantics: watch, paging, patch, selectors, validation, defaults, deletion
and ``Status`` bodies. It knows nothing of HTTP, controllers or nodes: it imports only
itself and ``clock``.
"""
