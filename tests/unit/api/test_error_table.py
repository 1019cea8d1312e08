"""The error table (herald.api.errors): every entry is a real exception class with an error status."""

from __future__ import annotations

import importlib

import pytest

from herald.api import errors
from herald.logic import accept


@pytest.mark.parametrize("name", sorted(errors.ANSWERS_BY_NAME))
def test_an_entry_known_by_name_names_an_exception_class(name: str) -> None:
    module, _, qualname = name.rpartition(".")
    cls = getattr(importlib.import_module(module), qualname)
    assert isinstance(cls, type) and issubclass(cls, Exception)


def test_every_answer_is_an_error_status() -> None:
    answers = [*errors.ANSWERS.values(), *errors.ANSWERS_BY_NAME.values()]
    assert all(400 <= answer.status < 600 for answer in answers)


def test_a_subclass_takes_its_closest_listed_class() -> None:
    class Bigger(accept.PayloadTooLargeError):
        pass

    assert errors.answer_for(Bigger("x")) is errors.ANSWERS[accept.PayloadTooLargeError]


def test_an_exception_the_table_does_not_know_has_no_answer() -> None:
    assert errors.answer_for(KeyError("x")) is None
    assert errors.respond(KeyError("x"), "/api/x") is None


def test_a_route_names_the_field_a_domain_error_concerns() -> None:
    with pytest.raises(errors.AboutField) as caught, errors.about("content", accept.PayloadRefusedError):
        raise accept.PayloadShapeError("payload must be an object")
    response = errors.respond(caught.value, "/api/x")
    assert response is not None and response.status_code == 400
    assert response.body == (
        '{"error": {"code": "invalid_request", "message": "content: payload must be an object", '
        '"field": "content"}}'
    )


def test_other_errors_pass_a_field_scope_untouched() -> None:
    with pytest.raises(accept.IngestUnavailableError), errors.about("content", accept.PayloadRefusedError):
        raise accept.IngestUnavailableError("busy")
