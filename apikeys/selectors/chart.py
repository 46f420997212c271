"""A key's requests per day over the last CHART_DAYS days, as the bars of an SVG chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from apikeys.models import APIKey, APIKeyDailyUsage

CHART_DAYS = 30


@dataclass(frozen=True)
class ChartBar:
    day: date
    requests: int
    refused: int
    x: float
    height: float
    refused_height: float
    y: float  # top of the accepted-requests bar; the refused part sits on it
    refused_y: float


@dataclass(frozen=True)
class UsageChart:
    bars: list[ChartBar]
    total_requests: int
    total_refused: int
    peak: int
    width: int = 600
    height: int = 120
    bar_width: float = 16.0
    top: int = 0  # the y axis's top value (scale_top of the peak)

    @property
    def ticks(self) -> list[int]:
        """The y axis's labels, top first: the top, its half when whole, and 0."""
        if not self.top:
            return []
        if self.top % 2 == 0:
            return [self.top, self.top // 2, 0]
        return [self.top, 0]

    @property
    def gridlines(self) -> list[float]:
        """The y of each tick's line inside the chart (the same order as ``ticks``)."""
        count = len(self.ticks)
        return [round(self.height * i / (count - 1), 1) for i in range(count)] if count else []

    @property
    def total(self) -> int:
        """Every request, accepted or refused (``total_requests`` counts the accepted)."""
        return self.total_requests + self.total_refused


def usage_chart(key: APIKey, *, today: date) -> UsageChart:
    first = today - timedelta(days=CHART_DAYS - 1)
    counts = {
        row.date: row
        for row in APIKeyDailyUsage.objects.filter(key=key, date__gte=first, date__lte=today)
    }
    chart = UsageChart(bars=[], total_requests=0, total_refused=0, peak=0)
    peak = max((r.request_count + r.refused_count for r in counts.values()), default=0)
    top = scale_top(peak)
    slot = chart.width / CHART_DAYS
    bars = []
    for offset in range(CHART_DAYS):
        day = first + timedelta(days=offset)
        row = counts.get(day)
        requests = row.request_count if row else 0
        refused = row.refused_count if row else 0
        scale = chart.height / top if top else 0
        height = round(requests * scale, 1)
        refused_height = round(refused * scale, 1)
        bars.append(
            ChartBar(
                day=day,
                requests=requests,
                refused=refused,
                x=round(offset * slot + (slot - chart.bar_width) / 2, 1),
                height=height,
                refused_height=refused_height,
                y=round(chart.height - height, 1),
                refused_y=round(chart.height - height - refused_height, 1),
            )
        )
    return UsageChart(
        bars=bars,
        total_requests=sum(b.requests for b in bars),
        total_refused=sum(b.refused for b in bars),
        peak=peak,
        top=top,
    )


def scale_top(peak: int) -> int:
    """The y axis's top: the smallest 1, 2 or 5 × 10ⁿ at or above the busiest day."""
    if peak <= 0:
        return 0
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= peak:
                return step * magnitude
        magnitude *= 10
