"""The key page's usage chart: one bar per day, scaled to a round top."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from apikeys.models import APIKeyDailyUsage
from apikeys.selectors.chart import CHART_DAYS, scale_top, usage_chart


@pytest.mark.parametrize(
    ("peak", "top"), [(0, 0), (1, 1), (3, 5), (5, 5), (6, 10), (11, 20), (250, 500), (501, 1000)]
)
def test_the_axis_top_is_the_smallest_1_2_or_5_times_a_power_of_ten_at_or_above_the_peak(peak, top):
    assert scale_top(peak) == top


@pytest.mark.django_db
def test_a_bar_per_day_ending_today_and_days_outside_the_window_left_out(project, make_key):
    key = make_key(project)[0]
    today = date(2026, 3, 31)
    APIKeyDailyUsage.objects.create(key=key, date=today, request_count=6, refused_count=2)
    APIKeyDailyUsage.objects.create(
        key=key, date=today - timedelta(days=CHART_DAYS), request_count=999
    )
    chart = usage_chart(key, today=today)
    assert [bar.day for bar in chart.bars] == [
        today - timedelta(days=CHART_DAYS - 1 - n) for n in range(CHART_DAYS)
    ]
    assert (chart.total_requests, chart.total_refused, chart.peak, chart.top) == (6, 2, 8, 10)
    assert chart.ticks == [10, 5, 0]
    last = chart.bars[-1]
    # The accepted part from the baseline up, the refused part stacked on it.
    assert last.height == round(6 * chart.height / 10, 1)
    assert last.refused_y == round(chart.height - last.height - last.refused_height, 1)
