"""Console sign-in items: a link is taken once; sessions are read and ended by their hash."""

from __future__ import annotations

from herald.logic.services import Services


def test_a_link_is_taken_by_exactly_one_caller(services: Services) -> None:
    services.console.put_link("h1", {"keyHash": "k"}, 2e9)

    first = services.console.take_link("h1")

    assert first is not None and (first["keyHash"], first["expiresAt"]) == ("k", 2e9)
    assert services.console.take_link("h1") is None


def test_a_session_reads_back_until_it_is_deleted(services: Services) -> None:
    services.console.put_session("h2", {"keyHash": "k", "project": None}, 2e9)

    stored = services.console.get_session("h2")
    services.console.delete_session("h2")

    assert stored is not None and stored["keyHash"] == "k" and "project" not in stored
    assert services.console.get_session("h2") is None
