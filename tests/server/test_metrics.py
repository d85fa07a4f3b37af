"""The event-loop counters render like prometheus_client's own counters."""

from __future__ import annotations

from parley.server.metrics import Metrics


def test_loop_counters_render_as_prometheus_counters() -> None:
    metrics = Metrics()
    send = metrics.frames_in.labels("send")
    send.inc()
    send.inc(2)
    metrics.frames_in.labels("ping").inc()
    metrics.persisted.inc(5)
    text = metrics.render().decode()
    assert "# TYPE parley_frames_in_total counter" in text
    assert 'parley_frames_in_total{type="send"} 3.0' in text
    assert 'parley_frames_in_total{type="ping"} 1.0' in text
    assert "parley_messages_persisted_total 5.0" in text
    assert "parley_fanout_deliveries_total 0.0" in text, "a counter is exported before its first inc"
    assert metrics.frames_in.labels("send") is send, "one child per label value"
