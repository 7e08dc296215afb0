"""The control plane: the StatefulSet, Deployment, DaemonSet and ReplicaSet controllers
(each after its namesake in ``kubernetes/pkg/controller``), the scheduler and the garbage
collector. It imports ``machinery``, ``registry`` and ``clock``; never ``nodes`` or
``apiserver``. The loop that drives it and the kubelets is ``manager.ControlPlane``, on top.
"""
