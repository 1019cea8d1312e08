"""The filters from ICA's notification documentation, on its Analysis payload, behave as documented."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from herald.filters import compile_filter

SEED_PAYLOAD: dict[str, Any] = json.loads((Path(__file__).parent / "seed_analysis.json").read_text())


@pytest.fixture
def analysis() -> dict[str, Any]:
    return copy.deepcopy(SEED_PAYLOAD)


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param("[?($.pipeline.code =~ /Copy.*/)]", id="pipeline-code-starts-with-Copy"),
        pytest.param("[?($.status == 'SUCCEEDED')]", id="status-succeeded"),
        pytest.param("[?('Demo' in $.pipeline.pipelineTags.technicalTags)]", id="technical-tag-Demo"),
        pytest.param(
            "[?(($.pipeline.code =~ /Copy.*/) && $.status == 'SUCCEEDED')]", id="combined-with-parentheses"
        ),
    ],
)
def test_documented_analysis_filter_matches_the_documented_payload(expression: str, analysis: dict) -> None:
    result = compile_filter(expression).evaluate(analysis)

    assert result.matched is True
    assert result.error is None


def test_regex_filter_stops_matching_when_the_code_does_not_start_with_copy(analysis: dict) -> None:
    analysis["pipeline"]["code"] = "DemoCopy"

    assert compile_filter("[?($.pipeline.code =~ /Copy.*/)]").matches(analysis) is False


def test_status_filter_does_not_match_a_failed_analysis(analysis: dict) -> None:
    analysis["status"] = "FAILED"

    assert compile_filter("[?($.status == 'SUCCEEDED')]").matches(analysis) is False


def test_technical_tag_filter_does_not_match_without_the_tag(analysis: dict) -> None:
    analysis["pipeline"]["pipelineTags"]["technicalTags"] = ["Production"]

    assert compile_filter("[?('Demo' in $.pipeline.pipelineTags.technicalTags)]").matches(analysis) is False


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("CopyToolDev", "SUCCEEDED", True),
        ("CopyToolDev", "FAILED", False),
        ("ToolDev", "SUCCEEDED", False),
    ],
    ids=["both-hold", "status-fails", "code-fails"],
)
def test_combined_filter_needs_both_conditions(
    analysis: dict, code: str, status: str, expected: bool
) -> None:
    analysis["pipeline"]["code"], analysis["status"] = code, status
    expression = "[?(($.pipeline.code =~ /Copy.*/) && $.status == 'SUCCEEDED')]"

    assert compile_filter(expression).matches(analysis) is expected


def test_combined_filter_works_without_the_recommended_parentheses(analysis: dict) -> None:
    # Jayway < 2.6 failed to parse a regex followed by '&&'; 2.6+ (and ICA's example) parse it.
    assert compile_filter("[?($.pipeline.code =~ /Copy.*/ && $.status == 'SUCCEEDED')]").matches(analysis)


def test_ica_data_104_filter_matches_on_the_owning_project_name() -> None:
    payload = {
        "id": "fil.8f6f9511d70e4036c60908daa70ea21c",
        "details": {"owningProjectName": "my_project_name"},
    }
    expression = "[?($.details.owningProjectName == 'my_project_name')]"

    assert compile_filter(expression).matches(payload) is True
    assert compile_filter(expression).matches({"details": {"owningProjectName": "other"}}) is False


def test_ica_data_104_filter_does_not_match_the_analysis_payload(analysis: dict) -> None:
    result = compile_filter("[?($.details.owningProjectName == 'my_project_name')]").evaluate(analysis)

    assert result.matched is False
    assert result.error is None  # a missing path is not an error


def test_at_sign_refers_to_the_payload_like_the_dollar_sign(analysis: dict) -> None:
    assert compile_filter("[?(@.status == 'SUCCEEDED')]").matches(analysis) is True
    assert compile_filter("[?(@.pipeline.code =~ /Copy.*/)]").matches(analysis) is True
