"""The nodes: the kubelets that run every bound pod through the states a real node shows,
and the scripted pod behaviours they (and the scheduler) follow. They import
``testing.registry``, ``testing.clock`` and the control plane's component base
(``controlplane.base``, ``.cache``, ``.util``); never ``testing.apiserver``.
"""
