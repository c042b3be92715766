"""Prometheus metrics, read from the job store at scrape time.

Counting from the database keeps the figures right across API replicas and
worker processes without a shared metrics registry.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from dsac_asr.jobs.model import JobStatus
from dsac_asr.jobs.store import JobStore

RTF_BUCKETS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0)


class JobMetrics(Collector):
    """Jobs by state, queue depth, audio seconds processed and a real-time-factor histogram."""

    def __init__(self, store: JobStore) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        """Yield the current figures."""
        counts = self.store.count_by_status()
        jobs = GaugeMetricFamily("dsac_jobs", "Jobs by state", labels=["state"])
        for status in JobStatus:
            jobs.add_metric([status.value], counts.get(status, 0))
        yield jobs
        depth = counts.get(JobStatus.QUEUED, 0)
        yield GaugeMetricFamily("dsac_queue_depth", "Jobs waiting for a worker", value=depth)
        yield GaugeMetricFamily(
            "dsac_audio_seconds_processed",
            "Seconds of audio in succeeded jobs",
            value=self.store.audio_seconds_processed(),
        )
        yield _rtf_histogram(self.store.realtime_factors())


def _rtf_histogram(factors: list[float]) -> HistogramMetricFamily:
    buckets = [(str(edge), sum(f <= edge for f in factors)) for edge in RTF_BUCKETS]
    buckets.append(("+Inf", len(factors)))
    return HistogramMetricFamily(
        "dsac_processing_rtf",
        "Processing time / audio duration of succeeded jobs",
        buckets=buckets,
        sum_value=sum(factors),
    )


def render_metrics(store: JobStore) -> bytes:
    """The Prometheus text exposition of the job metrics."""
    registry = CollectorRegistry()
    registry.register(JobMetrics(store))
    return generate_latest(registry)
