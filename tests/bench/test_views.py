"""bench.views: case (f1)'s view reads the key's row as the guard does, and nothing else."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from bench.views import key_read


def test_key_read_answers_after_one_query_for_that_key(make_key, project):
    key, _ = make_key(project)
    with CaptureQueriesContext(connection) as queries:
        response = key_read(RequestFactory().get("/bench/key-read", {"id": key.key_id}))
    assert response.status_code == 200
    assert len(queries) == 1
    assert key.key_id in queries[0]["sql"]


@pytest.mark.parametrize("query", [{"id": "000000000000"}, {}])
def test_key_read_of_an_unknown_id_is_a_404_so_a_wrong_seed_shows_as_unexpected(db, query):
    with pytest.raises(Http404):
        key_read(RequestFactory().get("/bench/key-read", query))
