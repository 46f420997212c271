"""`make bench`: the API guard's cost under load, and the key list page's render time."""
