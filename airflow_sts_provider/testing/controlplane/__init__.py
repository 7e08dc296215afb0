"""The control plane: the StatefulSet, Deployment and ReplicaSet controllers (each after
its namesake in ``kubernetes/pkg/controller``), the scheduler, the garbage collector and
``manager.ControlPlane``, the one loop that drives them and the kubelet. It imports
``testing.registry``, ``testing.clock`` and ``testing.nodes``; never ``testing.apiserver``.
"""
