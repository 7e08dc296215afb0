"""Deferrable mode for a release: re-read every workload of the selector, judge, repeat.

The workloads of a release are not known in advance (a deploy may add one), so this
trigger does not hold a watch per workload: every ``check_interval`` (and sooner,
when a stability window is about to close) it makes the same reads as a poke in the
triggerer and judges them with the same rules. It fires the same one event as the
other triggers, with the release's report as ``verdict``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_sts_provider.exceptions import (
    KubernetesApiCallError,
    KubernetesPermissionError,
    TransientKubernetesError,
)
from airflow_sts_provider.readiness import State
from airflow_sts_provider.readiness.verdict import cut
from airflow_sts_provider.reporting import MESSAGE_IN_EVENT
from airflow_sts_provider.triggers.base import JUDGE_ON_THE_LOOP, WorkloadRunningTrigger
from airflow_sts_provider.triggers.loading import load_hooks
from airflow_sts_provider.workloads import WorkloadsVerdict, combine, release_failure

if TYPE_CHECKING:  # imported off the event loop (triggers/loading.py)
    from airflow_sts_provider.hooks.reads import Picture
    from airflow_sts_provider.hooks.workload import AsyncWorkloadHook
    from airflow_sts_provider.readiness import Verdict

__all__ = ["WorkloadsRunningTrigger"]


class WorkloadsRunningTrigger(WorkloadRunningTrigger):
    """Fire once when every workload matching ``label_selector`` is READY (or one FAILED).

    :param label_selector: the release's selector.
    :param kinds: the kinds that make up the release.
    Every other argument is :class:`WorkloadRunningTrigger`'s (``name`` excepted).
    """

    kind = "Workloads"

    def __init__(self, *, label_selector: str, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(name=label_selector, **kwargs)
        self.label_selector = label_selector
        self.kinds = list(kinds)
        self._release: WorkloadsVerdict | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The base arguments, the selector in place of a name."""
        classpath, kwargs = super().serialize()
        kwargs.pop("name")
        kwargs.update(label_selector=self.label_selector, kinds=self.kinds)
        return classpath, kwargs

    async def _wait(self) -> dict[str, Any]:
        await load_hooks()
        hook = self.hook()
        failures = 0
        while not self._past_deadline():
            try:
                async with hook.session():
                    release, judged_at = await self._judge(hook)
            except (KubernetesPermissionError, KubernetesApiCallError) as exc:
                if not isinstance(exc, TransientKubernetesError):
                    return self._event("error", str(exc))
                failures += 1
                await asyncio.sleep(self._bounded(hook.retry.delay(failures, exc.retry_after)))
                continue
            failures = 0
            if not release.workloads and self._past_not_found_grace():
                return await self._nothing_matched(hook, release)
            if release.state is State.READY:
                return self._release_event("success", f"Workloads {release.reason}")
            if release.state is State.FAILED and self.fail_fast:
                return self._release_event("failed", release.reason)
            await asyncio.sleep(self._wake(release, judged_at))
        return self._release_event("timeout", "Sensor has timed out")

    async def _nothing_matched(
        self, hook: AsyncWorkloadHook, release: WorkloadsVerdict
    ) -> dict[str, Any]:
        """The selector still matches nothing after the grace: fail, saying what there is."""
        try:
            async with hook.session():
                explained = await hook.explain_no_match(
                    self.label_selector, self.kinds, self.namespace
                )
        except KubernetesApiCallError:
            explained = release.reason
        grace = f"not_found_grace_seconds={self.not_found_grace_seconds:g}"
        message = f"{explained} ({grace}): check the label selector and the namespace"
        return {"status": "failed", "verdict": release.to_dict(), "message": message}

    async def _judge(self, hook: AsyncWorkloadHook) -> tuple[WorkloadsVerdict, datetime]:
        pictures = await hook.read_workloads(self.label_selector, self.kinds, self.namespace)
        now = hook.clock.now()
        verdicts = await self._judge_all(pictures, now)
        verdicts = [
            await hook.with_events(v, p) if v.state is State.FAILED else v
            for v, p in zip(verdicts, pictures, strict=True)
        ]
        self._release = combine(self.label_selector, self.namespace, verdicts)
        self.log.info("Workloads %s: %s", self.label_selector, self._release.reason)
        return self._release, now

    async def _judge_all(self, pictures: list[Picture], now: datetime) -> list[Verdict]:
        """Each workload by its rules; a big release in a thread, as a big picture is
        (``_judge_picture``): the pictures are this poll's own, nothing else touches them."""
        policy = self._readiness_policy
        if sum(picture.size() for picture in pictures) <= JUDGE_ON_THE_LOOP:
            return [picture.judge(now, policy) for picture in pictures]
        return await asyncio.to_thread(lambda: [picture.judge(now, policy) for picture in pictures])

    def _wake(self, release: WorkloadsVerdict, judged_at: datetime) -> float:
        """The soonest of the workloads' wakes, counted from the judgement (see ``_next_wake``)."""
        wakes = [self._next_wake(verdict, judged_at) for verdict in release.workloads]
        return min(wakes, default=self._bounded(self.check_interval))

    def _release_event(self, status: str, message: str) -> dict[str, Any]:
        release = self._release
        if status == "timeout" and release is not None:
            message = f"Sensor has timed out: still {release.state.value.upper()}: {release.reason}"
        if status == "failed" and release is not None:
            message = release_failure(release)
        return {
            "status": status,
            "verdict": release.to_dict() if release else None,
            "message": cut(message, MESSAGE_IN_EVENT),
        }
