"""Named presets: a workload with a scripted story, for demos and tests.

Each scenario creates a workload named after itself (``healthy`` creates the
StatefulSet ``healthy``) whose pod template carries the ``sts.emulator/behaviour``
annotations that make it misbehave, and may schedule later steps (a template
change, a scale-down, a delete) at emulated times. Every object a scenario creates
is named after it (``<name>`` or ``<name>-...``), except a definition it requires
(a CustomResourceDefinition, named ``<plural>.<group>``). The operator scenarios
(``kafka-operator``...) create a custom resource and play its operator in their
steps: they create the pods it owns and write its status. Timings below are emulated
seconds after the scenario is applied; with the defaults (image pull 0.4 s on a
node's first pull, start 0.1 s, readiness 0.5 s) a pod is Ready about a second
after it is created, and an ``OrderedReady`` set of three in about three.

The manifests are plain dicts: :func:`build` returns them, so a test can read
exactly what a scenario applies, and a user can copy an annotation from here.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from kube_test_cluster.clock import Clock, rfc3339
from kube_test_cluster.machinery.behaviour import ANNOTATION

Obj = dict[str, Any]

IMAGE = "nginx:1.27"
NEXT_IMAGE = "nginx:1.28"


@dataclass(frozen=True)
class Step:
    """Something that happens ``after`` emulated seconds: a write through the cluster API.

    With ``until`` the step waits, checking every ``poll`` emulated seconds from
    ``after`` on, until ``until`` holds: what a controller does when it waits for the
    objects it watches (an operator writing Ready once its pods are Ready).
    """

    after: float
    description: str
    action: Callable[[Actions], None]
    until: Callable[[Actions], bool] | None = None
    poll: float = 0.5


class Actions(Protocol):
    """What a scenario step may do; :class:`~.cluster.EmulatedCluster` provides it."""

    clock: Clock

    def get(self, resource: str, name: str, namespace: str = "default") -> Obj | None: ...

    def create(self, resource: str, manifest: Obj) -> Obj: ...

    def patch(
        self, resource: str, namespace: str, name: str, mutate: Callable[[Obj], None]
    ) -> None: ...

    def update_status(
        self, resource: str, namespace: str, name: str, status: Callable[[Obj], Obj]
    ) -> None: ...

    def delete(
        self, resource: str, namespace: str, name: str, *, propagation_policy: str | None = None
    ) -> None: ...


@dataclass
class Plan:
    """What a scenario creates (as ``(resource, manifest)``) and its later steps.

    ``requires`` is created first, and only where it is not there yet (the
    CustomResourceDefinition several scenarios share, or one the user installed);
    ``objects`` are created (or replaced) next, in order.
    """

    objects: list[tuple[str, Obj]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    requires: list[tuple[str, Obj]] = field(default_factory=list)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    build: Callable[[str, int | None], Plan]  # (namespace, replicas) -> Plan


# -- manifest builders --------------------------------------------------------------------


def _template(
    app: str,
    *,
    behaviour: str | None = None,
    ordinals: dict[int, str] | None = None,
    image: str = IMAGE,
    probe_delay: int = 0,
    grace: int | None = None,
    resources: Obj | None = None,
    env_from: list[Obj] | None = None,
) -> Obj:
    annotations = {}
    if behaviour:
        annotations[ANNOTATION] = behaviour
    for ordinal, text in (ordinals or {}).items():
        annotations[f"{ANNOTATION}-{ordinal}"] = text
    container: Obj = {
        "name": "app",
        "image": image,
        "ports": [{"name": "http", "containerPort": 80}],
        "readinessProbe": {
            "httpGet": {"path": "/", "port": "http"},
            "initialDelaySeconds": probe_delay,
            "periodSeconds": 5,
        },
    }
    if resources:
        container["resources"] = resources
    if env_from:
        container["envFrom"] = env_from
    spec: Obj = {"containers": [container]}
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    metadata: Obj = {"labels": {"app": app}}
    if annotations:
        metadata["annotations"] = annotations
    return {"metadata": metadata, "spec": spec}


def statefulset(
    name: str,
    namespace: str,
    replicas: int,
    template: Obj,
    *,
    policy: str = "OrderedReady",
    strategy: Obj | None = None,
) -> Obj:
    spec: Obj = {
        "replicas": replicas,
        "serviceName": name,
        "podManagementPolicy": policy,
        "selector": {"matchLabels": {"app": name}},
        "template": template,
    }
    if strategy is not None:
        spec["updateStrategy"] = strategy
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": spec,
    }


def deployment(name: str, namespace: str, replicas: int, template: Obj) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": template,
        },
    }


def daemonset(name: str, namespace: str, template: Obj, *, labels: Obj | None = None) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name}},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": template},
    }


def _new_image(image: str, behaviour: str | None = None) -> Callable[[Obj], None]:
    """A template change, as ``kubectl set image`` (plus a behaviour change) makes it."""

    def mutate(obj: Obj) -> None:
        template = obj["spec"]["template"]
        template["spec"]["containers"][0]["image"] = image
        annotations = template["metadata"].setdefault("annotations", {})
        if behaviour is None:
            annotations.pop(ANNOTATION, None)
        else:
            annotations[ANNOTATION] = behaviour
        if not annotations:
            del template["metadata"]["annotations"]

    return mutate


def _sts_plan(name: str, namespace: str, replicas: int, template: Obj, **kw: Any) -> Plan:
    return Plan(objects=[("statefulsets", statefulset(name, namespace, replicas, template, **kw))])


# -- the presets --------------------------------------------------------------------------


def _healthy(ns: str, replicas: int | None) -> Plan:
    return _sts_plan("healthy", ns, replicas or 3, _template("healthy"))


def _slow_start(ns: str, replicas: int | None) -> Plan:
    return _sts_plan(
        "slow-start", ns, replicas or 3, _template("slow-start", behaviour="pull=2", probe_delay=8)
    )


def _crashloop(ns: str, replicas: int | None) -> Plan:
    template = _template("crashloop", ordinals={1: "crash-after=1, exit-code=1, ready=3"})
    return _sts_plan("crashloop", ns, replicas or 3, template)


def _image_pull_error(ns: str, replicas: int | None) -> Plan:
    template = _template(
        "image-pull-error", image="nginx:1.27-does-not-exist", behaviour="image-error=not-found"
    )
    return _sts_plan("image-pull-error", ns, replicas or 3, template)


def _bad_config(ns: str, replicas: int | None) -> Plan:
    template = _template(
        "bad-config",
        behaviour="config-error=secret:db-creds",
        env_from=[{"secretRef": {"name": "db-creds"}}],
    )
    return _sts_plan("bad-config", ns, replicas or 3, template)


def _oom(ns: str, replicas: int | None) -> Plan:
    template = _template(
        "oom",
        behaviour="oom-after=3",
        resources={"limits": {"memory": "64Mi"}, "requests": {"memory": "64Mi"}},
    )
    return _sts_plan("oom", ns, replicas or 3, template)


def _unschedulable(ns: str, replicas: int | None) -> Plan:
    template = _template(
        "unschedulable", behaviour="unschedulable=cpu", resources={"requests": {"cpu": "64"}}
    )
    return _sts_plan("unschedulable", ns, replicas or 3, template)


def _evicted(ns: str, replicas: int | None) -> Plan:
    # The node runs low on memory: evicted-0 stops passing its readiness probe, then
    # evicted-1 is evicted. OrderedReady waits for evicted-0 before it would recreate
    # evicted-1, so the Failed/Evicted pod stays visible, as on a real cluster.
    template = _template("evicted", ordinals={0: "unready-after=5", 1: "evict-after=5"})
    return _sts_plan("evicted", ns, replicas or 3, template)


def _rolling_update(ns: str, replicas: int | None) -> Plan:
    plan = _sts_plan("rolling-update", ns, replicas or 3, _template("rolling-update"))
    plan.steps.append(
        Step(
            8,
            f"pod template updated to {NEXT_IMAGE}: rolling from the highest ordinal",
            lambda api: api.patch("statefulsets", ns, "rolling-update", _new_image(NEXT_IMAGE)),
        )
    )
    return plan


def _partitioned(ns: str, replicas: int | None) -> Plan:
    count = replicas or 3
    plan = _sts_plan(
        "partitioned",
        ns,
        count,
        _template("partitioned"),
        strategy={"type": "RollingUpdate", "rollingUpdate": {"partition": max(count - 2, 0)}},
    )
    plan.steps.append(
        Step(
            8,
            f"pod template updated to {NEXT_IMAGE}: only ordinals >= partition roll",
            lambda api: api.patch("statefulsets", ns, "partitioned", _new_image(NEXT_IMAGE)),
        )
    )
    return plan


def _on_delete(ns: str, replicas: int | None) -> Plan:
    count = replicas or 3
    plan = _sts_plan("on-delete", ns, count, _template("on-delete"), strategy={"type": "OnDelete"})
    last = f"on-delete-{count - 1}"
    plan.steps += [
        Step(
            8,
            f"pod template updated to {NEXT_IMAGE}: OnDelete, so nothing rolls",
            lambda api: api.patch("statefulsets", ns, "on-delete", _new_image(NEXT_IMAGE)),
        ),
        Step(
            14,
            f"pod {last} deleted: recreated at the update revision",
            lambda api: api.delete("pods", ns, last),
        ),
    ]
    return plan


def _scale_down(ns: str, replicas: int | None) -> Plan:
    count = replicas or 5
    target = 2 if count > 2 else max(count - 1, 0)
    plan = _sts_plan("scale-down", ns, count, _template("scale-down"))

    def scale(obj: Obj) -> None:
        obj["spec"]["replicas"] = target

    plan.steps.append(
        Step(
            8,
            f"scaled from {count} to {target}: pods go from the highest ordinal down",
            lambda api: api.patch("statefulsets", ns, "scale-down", scale),
        )
    )
    return plan


def _flapping(ns: str, replicas: int | None) -> Plan:
    template = _template("flapping", ordinals={1: "crash-after=20, crashes=1, exit-code=137"})
    return _sts_plan("flapping", ns, replicas or 3, template)


def _deleted(ns: str, replicas: int | None) -> Plan:
    template = _template("deleted", behaviour="stop-after=600", grace=120)
    plan = _sts_plan("deleted", ns, replicas or 3, template)
    plan.steps.append(
        Step(
            5,
            "deleted with propagationPolicy=Foreground; pods terminate for 120 s",
            lambda api: api.delete("statefulsets", ns, "deleted", propagation_policy="Foreground"),
        )
    )
    return plan


def _stuck_rollout(ns: str, replicas: int | None) -> Plan:
    plan = _sts_plan("stuck-rollout", ns, replicas or 3, _template("stuck-rollout"))
    plan.steps += [
        Step(
            8,
            "pod template updated to a crashing release: the highest ordinal crash-loops",
            lambda api: api.patch(
                "statefulsets",
                ns,
                "stuck-rollout",
                _new_image(NEXT_IMAGE, "crash-after=1, ready=3"),
            ),
        ),
        Step(
            20,
            "template fixed, but OrderedReady waits for the broken pod forever (kubernetes#67250)",
            lambda api: api.patch("statefulsets", ns, "stuck-rollout", _new_image("nginx:1.28.1")),
        ),
    ]
    return plan


def _big(ns: str, replicas: int | None) -> Plan:
    template = _template("big", behaviour="pull=0.2, ready=0.3")
    return _sts_plan("big", ns, 1000 if replicas is None else replicas, template, policy="Parallel")


def _healthy_deployment(ns: str, replicas: int | None) -> Plan:
    name = "healthy-deployment"
    return Plan(objects=[("deployments", deployment(name, ns, replicas or 3, _template(name)))])


def _crashloop_deployment(ns: str, replicas: int | None) -> Plan:
    name = "crashloop-deployment"
    template = _template(name, behaviour="crash-after=1, exit-code=1, ready=3")
    return Plan(objects=[("deployments", deployment(name, ns, replicas or 3, template))])


def _healthy_daemonset(ns: str, replicas: int | None) -> Plan:
    name = "healthy-daemonset"
    return Plan(objects=[("daemonsets", daemonset(name, ns, _template(name)))])


def _daemonset_rollout(ns: str, replicas: int | None) -> Plan:
    name = "daemonset-rollout"
    template = _template(name, behaviour="ready=2")
    return Plan(
        objects=[("daemonsets", daemonset(name, ns, template))],
        steps=[
            Step(
                8,
                f"pod template updated to {NEXT_IMAGE}: rolling one node at a time",
                lambda api: api.patch("daemonsets", ns, name, _new_image(NEXT_IMAGE, "ready=2")),
            )
        ],
    )


def _daemonset_crashloop(ns: str, replicas: int | None) -> Plan:
    name = "daemonset-crashloop"
    template = _template(name)
    template["metadata"]["annotations"] = {
        f"{ANNOTATION}-node-node-2": "crash-after=1, exit-code=1, ready=3"
    }
    return Plan(objects=[("daemonsets", daemonset(name, ns, template))])


# -- operator scenarios: a Strimzi Kafka and the steps its operator takes -------------------

KAFKA_GROUP, KAFKA_VERSION = "kafka.strimzi.io", "v1beta2"
KAFKA_IMAGE = "quay.io/strimzi/kafka:0.45.0-kafka-3.9.0"
KAFKA_VERSION_RUN = "3.9.0"
STRIMZI_VERSION = "0.45.0"
#: seconds after the scenario is applied at which the operator reconciles the Kafka
OPERATOR_DELAY = 1.0


def kafka_crd() -> Obj:
    """The CustomResourceDefinition Strimzi installs for ``Kafka`` (trimmed: no schema)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"kafkas.{KAFKA_GROUP}",
            "labels": {"app": "strimzi", "strimzi.io/crd-install": "true"},
        },
        "spec": {
            "group": KAFKA_GROUP,
            "names": {
                "kind": "Kafka",
                "listKind": "KafkaList",
                "plural": "kafkas",
                "singular": "kafka",
                "shortNames": ["k"],
                "categories": ["strimzi"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": KAFKA_VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


def kafka(name: str, namespace: str, replicas: int) -> Obj:
    return {
        "apiVersion": f"{KAFKA_GROUP}/{KAFKA_VERSION}",
        "kind": "Kafka",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "kafka": {
                "version": KAFKA_VERSION_RUN,
                "replicas": replicas,
                "listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": False}],
                "storage": {"type": "ephemeral"},
            },
            "entityOperator": {"topicOperator": {}, "userOperator": {}},
        },
    }


def broker_labels(cluster: str) -> Obj:
    """The labels Strimzi puts on a Kafka's broker pods (``strimzi.io/cluster`` selects them)."""
    return {
        "app.kubernetes.io/name": "kafka",
        "app.kubernetes.io/managed-by": "strimzi-cluster-operator",
        "strimzi.io/cluster": cluster,
        "strimzi.io/kind": "Kafka",
        "strimzi.io/name": f"{cluster}-kafka",
    }


def _broker(owner: Obj, ordinal: int, behaviour: str | None) -> Obj:
    """Broker pod ``<cluster>-kafka-<ordinal>``, owned by the Kafka (no StatefulSet between)."""
    cluster, namespace = owner["metadata"]["name"], owner["metadata"]["namespace"]
    name = f"{cluster}-kafka-{ordinal}"
    metadata: Obj = {
        "name": name,
        "namespace": namespace,
        "labels": {**broker_labels(cluster), "strimzi.io/pod-name": name},
        "ownerReferences": [
            {
                "apiVersion": owner["apiVersion"],
                "kind": owner["kind"],
                "name": cluster,
                "uid": owner["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": False,
            }
        ],
    }
    if behaviour:
        metadata["annotations"] = {ANNOTATION: behaviour}
    container: Obj = {
        "name": "kafka",
        "image": KAFKA_IMAGE,
        "command": ["/opt/kafka/kafka_run.sh"],
        "ports": [{"name": "clients", "containerPort": 9092}],
        "readinessProbe": {
            "exec": {"command": ["/opt/kafka/kafka_readiness.sh"]},
            "initialDelaySeconds": 0,
            "periodSeconds": 5,
        },
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {
            "hostname": name,
            "subdomain": f"{cluster}-kafka-brokers",
            "containers": [container],
        },
    }


def _pod_ready(pod: Obj | None) -> bool:
    conditions = ((pod or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _kafka_ready_status(kafka_obj: Obj, now: str) -> Obj:
    """The status Strimzi writes once a Kafka is reconciled: ``Ready`` without reason or message."""
    meta = kafka_obj["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    bootstrap = f"{name}-kafka-bootstrap.{namespace}.svc"
    return {
        "clusterId": hashlib.sha256(meta["uid"].encode()).hexdigest()[:22],
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}],
        "kafkaVersion": KAFKA_VERSION_RUN,
        "kafkaMetadataState": "KRaft",
        "listeners": [
            {
                "name": "plain",
                "addresses": [{"host": bootstrap, "port": 9092}],
                "bootstrapServers": f"{bootstrap}:9092",
            }
        ],
        "observedGeneration": meta.get("generation", 1),
        "operatorLastSuccessfulVersion": STRIMZI_VERSION,
    }


def _kafka_plan(name: str, ns: str, replicas: int, crashing: dict[int, str]) -> Plan:
    """A Kafka of ``replicas`` brokers; the operator creates them at 1 s, and writes
    Ready=True once they are all Ready (or, with ``crashing`` brokers, at 3 s anyway)."""
    brokers = [f"{name}-kafka-{i}" for i in range(replicas)]

    def create_brokers(api: Actions) -> None:
        owner = api.get("kafkas", name, ns)
        if owner is None:
            raise KeyError(f"kafkas {ns}/{name} not found")
        for ordinal in range(replicas):
            api.create("pods", _broker(owner, ordinal, crashing.get(ordinal)))

    def brokers_ready(api: Actions) -> bool:
        return all(_pod_ready(api.get("pods", broker, ns)) for broker in brokers)

    def write_ready(api: Actions) -> None:
        now = rfc3339(api.clock.now())
        api.update_status("kafkas", ns, name, lambda obj: _kafka_ready_status(obj, now))

    if crashing:
        ready = Step(
            OPERATOR_DELAY + 2,
            "the operator writes Ready=True though a broker crash-loops",
            write_ready,
        )
    else:
        ready = Step(
            OPERATOR_DELAY + 0.5,
            "the operator writes Ready=True once every broker pod is Ready",
            write_ready,
            until=brokers_ready,
        )
    return Plan(
        requires=[("customresourcedefinitions", kafka_crd())],
        objects=[("kafkas", kafka(name, ns, replicas))],
        steps=[
            Step(
                OPERATOR_DELAY,
                f"the operator creates broker pods {brokers[0]}..{brokers[-1]}",
                create_brokers,
            ),
            ready,
        ],
    )


def _kafka_operator(ns: str, replicas: int | None) -> Plan:
    return _kafka_plan("kafka-operator", ns, replicas or 3, {})


def _kafka_broker_crashloop(ns: str, replicas: int | None) -> Plan:
    return _kafka_plan(
        "kafka-broker-crashloop", ns, replicas or 3, {1: "crash-after=1, exit-code=1, ready=3"}
    )


def _stalled_resource(ns: str, replicas: int | None) -> Plan:
    name = "stalled-resource"
    message = (
        "Failed to reconcile Kafka: the listener 'plain' conflicts with the listener "
        "'external' on port 9092"
    )

    def write_stalled(api: Actions) -> None:
        now = rfc3339(api.clock.now())

        def status(obj: Obj) -> Obj:
            failed = {"reason": "ReconcileFailed", "message": message, "lastTransitionTime": now}
            return {
                "conditions": [
                    {"type": "Stalled", "status": "True", **failed},
                    {"type": "Ready", "status": "False", **failed},
                ],
                "observedGeneration": obj["metadata"].get("generation", 1),
            }

        api.update_status("kafkas", ns, name, status)

    return Plan(
        requires=[("customresourcedefinitions", kafka_crd())],
        objects=[("kafkas", kafka(name, ns, replicas or 3))],
        steps=[
            Step(
                OPERATOR_DELAY,
                "the operator gives up: Stalled=True (ReconcileFailed), Ready=False",
                write_stalled,
            )
        ],
    )


def _release(ns: str, replicas: int | None) -> Plan:
    """A Helm-style release: three workloads sharing ``app.kubernetes.io/instance=release``."""
    release = "release"
    count = replicas or 3

    def labelled(obj: Obj) -> Obj:
        name = obj["metadata"]["name"]
        labels = {
            "app": name,
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/instance": release,
            "app.kubernetes.io/managed-by": "Helm",
        }
        obj["metadata"]["labels"] = dict(labels)
        obj["spec"]["selector"] = {
            "matchLabels": {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": release}
        }
        obj["spec"]["template"]["metadata"]["labels"] = dict(labels)
        return obj

    db, api, agent = (f"{release}-{part}" for part in ("db", "api", "agent"))
    return Plan(
        objects=[
            ("statefulsets", labelled(statefulset(db, ns, count, _template(db)))),
            ("deployments", labelled(deployment(api, ns, count, _template(api)))),
            ("daemonsets", labelled(daemonset(agent, ns, _template(agent)))),
        ]
    )


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("healthy", "3 replicas, all Ready within about 3 s", _healthy),
        Scenario(
            "slow-start", "3 replicas, each Ready ~10 s after creation (~30 s in all)", _slow_start
        ),
        Scenario(
            "crashloop", "ordinal 1 exits with code 1 every second: CrashLoopBackOff", _crashloop
        ),
        Scenario(
            "image-pull-error",
            "the image tag does not exist: ErrImagePull / ImagePullBackOff",
            _image_pull_error,
        ),
        Scenario(
            "bad-config",
            'CreateContainerConfigError: secret "db-creds" not found',
            _bad_config,
        ),
        Scenario("oom", "every pod is OOMKilled (exit 137) 3 s after it starts", _oom),
        Scenario(
            "unschedulable",
            "requests 64 CPUs: Pending, 0/3 nodes are available: 3 Insufficient cpu",
            _unschedulable,
        ),
        Scenario(
            "evicted",
            "node memory pressure: ordinal 0 turns unready, ordinal 1 is Evicted",
            _evicted,
        ),
        Scenario(
            "rolling-update",
            "healthy at revision 1, new image at 8 s, rolls 2-1-0",
            _rolling_update,
        ),
        Scenario(
            "partitioned",
            "rolling update at 8 s with partition replicas-2: the lowest ordinals stay",
            _partitioned,
        ),
        Scenario(
            "on-delete",
            "OnDelete: new image at 8 s rolls nothing; the last pod is deleted at 14 s",
            _on_delete,
        ),
        Scenario("scale-down", "5 replicas, scaled to 2 at 8 s", _scale_down),
        Scenario(
            "flapping", "all Ready, then ordinal 1 restarts once (exit 137) at ~20 s", _flapping
        ),
        Scenario(
            "deleted",
            "deleted (Foreground) at 5 s; pods ignore SIGTERM and terminate for 120 s",
            _deleted,
        ),
        Scenario(
            "stuck-rollout",
            "a crashing release at 8 s, fixed at 20 s, stuck anyway (kubernetes#67250)",
            _stuck_rollout,
        ),
        Scenario("big", "1000 replicas (--replicas N), Parallel, all Ready within seconds", _big),
        Scenario(
            "healthy-deployment",
            "a Deployment of 3, all Ready within about 2 s",
            _healthy_deployment,
        ),
        Scenario(
            "crashloop-deployment",
            "a Deployment of 3 whose pods all crash-loop",
            _crashloop_deployment,
        ),
        Scenario(
            "healthy-daemonset",
            "a DaemonSet: one pod per node (3), all Ready within about 2 s",
            _healthy_daemonset,
        ),
        Scenario(
            "daemonset-rollout",
            "a DaemonSet updated to a new image at 8 s, rolled one node at a time",
            _daemonset_rollout,
        ),
        Scenario(
            "daemonset-crashloop",
            "a DaemonSet whose pod on node-2 crash-loops",
            _daemonset_crashloop,
        ),
        Scenario(
            "kafka-operator",
            "a Strimzi Kafka (CRD too): 3 broker pods at 1 s, Ready=True once they are Ready",
            _kafka_operator,
        ),
        Scenario(
            "kafka-broker-crashloop",
            "a Kafka whose broker 1 crash-loops while the operator says Ready=True at 3 s",
            _kafka_broker_crashloop,
        ),
        Scenario(
            "stalled-resource",
            "a Kafka its operator gives up on at 1 s: Stalled=True, Ready=False",
            _stalled_resource,
        ),
        Scenario(
            "release",
            "a StatefulSet, a Deployment and a DaemonSet of app.kubernetes.io/instance=release",
            _release,
        ),
    )
}


def build(name: str, *, namespace: str = "default", replicas: int | None = None) -> Plan:
    """The manifests and steps of scenario ``name`` (KeyError listing the valid names)."""
    try:
        scenario = SCENARIOS[name]
    except KeyError:
        raise KeyError(
            f"unknown scenario {name!r}; valid scenarios: {', '.join(SCENARIOS)}"
        ) from None
    plan = scenario.build(namespace, replicas)
    plan.objects = [(resource, copy.deepcopy(obj)) for resource, obj in plan.objects]
    plan.requires = [(resource, copy.deepcopy(obj)) for resource, obj in plan.requires]
    return plan


# -- the example DAGs' set ----------------------------------------------------------------

#: What ``serve --examples`` and :meth:`~.cluster.EmulatedCluster.apply_examples` apply.
EXAMPLES_DESCRIPTION = (
    "what example_dags/ wait for with their default params: StatefulSets kafka (3) and "
    "postgres (1), Deployment model-server (2), all healthy"
)


def examples(*, namespace: str = "default") -> Plan:
    """Every workload the example DAGs expect and do not deploy themselves, healthy.

    ``example_multi_service_gate`` waits for the StatefulSets ``kafka`` and ``postgres``
    and the Deployment ``model-server``. ``example_statefulset_gate`` deploys its own
    ``web`` (which ``example_event_scheduled`` watches) and ``example_release_gate`` its
    own ``shop`` release, so neither is here: both DAGs create them as shipped.
    """
    return Plan(
        objects=[
            ("statefulsets", statefulset("kafka", namespace, 3, _template("kafka"))),
            ("statefulsets", statefulset("postgres", namespace, 1, _template("postgres"))),
            ("deployments", deployment("model-server", namespace, 2, _template("model-server"))),
        ]
    )
