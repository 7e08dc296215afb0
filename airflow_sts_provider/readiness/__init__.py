"""The readiness rules: is a StatefulSet, Deployment, DaemonSet, Pod or resource really running?

Everything here is pure and stdlib-only on purpose. The hook, the trigger, the
emulator's tests and the benchmarks all call the same functions with the plain
JSON dicts the API server returned, and get a :class:`Verdict` back; nothing here
knows about HTTP, Airflow or the kubernetes client, so the rules can be tested
as tables and imported anywhere.

One module per role, one per rule table of docs/rules.md, "How *running* is decided"
(``python -m airflow_sts_provider.docs rules``):

- ``verdict``: State, Finding, PodReport, Verdict, and how a reason is worded;
- ``policy``: ReadinessPolicy;
- ``checks``: what every kind shares (deletion, observed generation, controller
  ownership) and the readers of raw fields (times, counts);
- ``pods`` (P1-P7), ``statefulset`` (S1-S12), ``deployment`` (D1-D6),
  ``daemonset`` (DS1-DS9), ``resource`` (G1-G8: any kind that reports
  conditions): one small function per rule, in table order, each returning
  findings that carry its id;
- ``selectors``: ``spec.selector`` as a ``labelSelector`` string;
- ``judgement``: a workload judged while its pods arrive page by page
  (``start_*``, :class:`Judgement`); each ``evaluate_*`` is that over one list.

Shape of every check, after kstatus: a flat run of small checks, each adding one
short finding a person can act on. Unlike kstatus, every failing pod is named
and collected, not just the first. Evaluation is stateless and linear in the
number of pods.
"""

from __future__ import annotations

from .daemonset import evaluate_daemonset, start_daemonset
from .deployment import evaluate_deployment, start_deployment
from .judgement import Judgement
from .pods import evaluate_pod
from .policy import ReadinessPolicy
from .resource import evaluate_resource, start_resource
from .selectors import selector_to_label_selector
from .statefulset import evaluate_statefulset, start_statefulset
from .verdict import PodReport, State, Verdict

__all__ = [
    "Judgement",
    "PodReport",
    "ReadinessPolicy",
    "State",
    "Verdict",
    "evaluate_daemonset",
    "evaluate_deployment",
    "evaluate_pod",
    "evaluate_resource",
    "evaluate_statefulset",
    "selector_to_label_selector",
    "start_daemonset",
    "start_deployment",
    "start_resource",
    "start_statefulset",
]
