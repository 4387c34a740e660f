"""Use cases: take a session (or the request's), call domain code, add rows."""
