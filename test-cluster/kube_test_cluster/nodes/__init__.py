"""The nodes: the kubelets that run every bound pod through the states a real node shows,
as the pod's scripted behaviour (``machinery.behaviour``) says. They import ``machinery``,
``registry`` and ``clock``; never ``controlplane`` or ``apiserver``.
"""
