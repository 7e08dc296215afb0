"""What both halves of the cluster are built with, so neither imports the other.

The component base every controller, the scheduler and the kubelet implement
(``base``: ``Context``, ``Controller``), the informer cache they read (``cache``),
the event recorder (``events``), helpers named after the Go functions they mirror
(``util``), the node specs (``topology``) and the pods' scripted behaviour
(``behaviour``), which the scheduler and the kubelets both follow. It imports only
itself, ``registry`` and ``clock``.
"""
