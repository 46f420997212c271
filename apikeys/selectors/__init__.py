"""Every read the dashboard's pages need, each with a fixed number of queries.

One module per page it serves; every name is importable from here:

    listing.py   the key list (filters, search, sort, page, summary)
    detail.py    the key page (permission use, refusals, lineage, the host's activity hook)
    chart.py     the key page's usage chart
    lineage.py   a key's rotation family, its chain, and its working successor
"""

from apikeys.selectors.chart import CHART_DAYS, ChartBar, UsageChart, scale_top, usage_chart
from apikeys.selectors.detail import (
    RECENT_USE_DAYS,
    KeyActivity,
    KeyDetail,
    PermissionUse,
    get_key,
    key_activity,
    key_detail,
    used_recently,
)
from apikeys.selectors.lineage import (
    ChainStep,
    lineage,
    live_successor,
    rotation_chain,
)
from apikeys.selectors.listing import (
    DEFAULT_SORT,
    FLAG_CHOICES,
    PAGE_SIZE,
    SORT_FIELDS,
    STATUS_CHOICES,
    KeyList,
    KeyListParams,
    KeyRow,
    KeySummary,
    filtered_keys,
    key_flags,
    key_list,
    key_row,
    key_summary,
)

__all__ = [
    "CHART_DAYS",
    "DEFAULT_SORT",
    "FLAG_CHOICES",
    "PAGE_SIZE",
    "RECENT_USE_DAYS",
    "SORT_FIELDS",
    "STATUS_CHOICES",
    "ChainStep",
    "ChartBar",
    "KeyActivity",
    "KeyDetail",
    "KeyList",
    "KeyListParams",
    "KeyRow",
    "KeySummary",
    "PermissionUse",
    "UsageChart",
    "filtered_keys",
    "get_key",
    "key_activity",
    "key_detail",
    "key_flags",
    "key_list",
    "key_row",
    "key_summary",
    "lineage",
    "live_successor",
    "rotation_chain",
    "scale_top",
    "usage_chart",
    "used_recently",
]
