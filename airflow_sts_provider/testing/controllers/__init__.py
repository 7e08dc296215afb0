"""The emulated control plane: controllers, scheduler and garbage collector.

``manager.ControlPlane`` wires them (and the kubelet) to a store and drives
them; each controller lives in its own module and mirrors its namesake in
``kubernetes/pkg/controller``.
"""
