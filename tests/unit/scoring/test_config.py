"""Loading the score-model file: defaults, segment overrides and clear errors for bad files."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pydantic import ValidationError

from stream_app.errors import ConfigurationError
from stream_app.scoring import DEFAULT_CONFIG_PATH, load_scoring_config

HEADER = 'model_version = "test-1"\nkey_features = ["a", "b"]\n'


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "scoring.toml"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_default_file_loads_with_the_documented_defaults():
    config = load_scoring_config(DEFAULT_CONFIG_PATH)
    model = config.for_segment("default")

    assert config.model_version == "hs-1.0.0"
    assert config.key_features == (
        "report.created",
        "export.run",
        "alert.configured",
        "integration.synced",
    )
    assert dict(model.weights) == {
        "engagement": 0.30,
        "adoption": 0.20,
        "support": 0.20,
        "sentiment": 0.15,
        "nsm_trend": 0.15,
    }
    assert (model.bands.healthy, model.bands.critical, model.bands.hysteresis_margin) == (
        70.0,
        40.0,
        3.0,
    )
    assert model.sentiment.half_life_days == 30.0


def test_enterprise_segment_overrides_weights_and_penalties_and_keeps_the_rest():
    config = load_scoring_config(DEFAULT_CONFIG_PATH)
    default, enterprise = config.for_segment("default"), config.for_segment("enterprise")

    assert enterprise.weights["support"] == 0.25
    assert enterprise.weights["engagement"] == 0.25
    assert enterprise.weights["adoption"] == default.weights["adoption"]
    assert math.isclose(sum(enterprise.weights.values()), 1.0)
    assert enterprise.support.urgent_open_penalty == 15.0
    assert enterprise.sentiment == default.sentiment
    assert enterprise.bands == default.bands


def test_unknown_segment_gets_the_defaults():
    config = load_scoring_config(DEFAULT_CONFIG_PATH)

    assert config.for_segment("no-such-segment") is config.for_segment("default")


def test_segment_override_merges_over_the_files_own_top_level_values(tmp_path):
    path = write(
        tmp_path,
        "[support]\nurgent_open_penalty = 30.0\n[segments.big.support]\nhigh_open_penalty = 1.0\n",
    )

    big = load_scoring_config(path).for_segment("big")

    assert big.support.urgent_open_penalty == 30.0
    assert big.support.high_open_penalty == 1.0


def test_config_is_immutable():
    config = load_scoring_config(DEFAULT_CONFIG_PATH)

    with pytest.raises(ValidationError):
        config.model_version = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "[weights]\nengagement = 0.5\n",
            ["weights", "sum to 1", "1.2"],
            id="weights-sum",
        ),
        pytest.param(
            "[segments.enterprise.weights]\nsupport = 0.4\n",
            ["segments.enterprise.weights", "sum to 1"],
            id="segment-weights-sum",
        ),
        pytest.param(
            "[weights]\nengagement = -0.1\nadoption = 0.6\n",
            ["weights.engagement", "greater than or equal to 0"],
            id="negative-weight",
        ),
        pytest.param("[weights]\nengagment = 0.3\n", ["weights.engagment", "Extra"], id="typo"),
        pytest.param("colour = 'red'\n", ["colour", "Extra"], id="unknown-top-level-key"),
        pytest.param(
            "[segments.smb.support]\nurgent_penalty = 1.0\n",
            ["segments.smb.support.urgent_penalty", "Extra"],
            id="unknown-key-in-segment",
        ),
        pytest.param(
            "[bands]\nhealthy = 40.0\ncritical = 70.0\n",
            ["bands", "critical (70) must be below healthy (40)"],
            id="thresholds-unordered",
        ),
        pytest.param(
            "[bands]\nhysteresis_margin = 30.0\n",
            ["bands", "hysteresis_margin"],
            id="margin-wider-than-at-risk",
        ),
        pytest.param(
            "[segments.default.support]\nreopen_penalty = 1.0\n",
            ["segments.default", "not allowed"],
            id="default-segment-table",
        ),
        pytest.param(
            "[sentiment]\nhalf_life_days = 0\n",
            ["sentiment.half_life_days", "greater than 0"],
            id="zero-half-life",
        ),
    ],
)
def test_invalid_values_name_the_file_and_the_field(tmp_path, body, expected):
    path = write(tmp_path, body)

    with pytest.raises(ConfigurationError) as caught:
        load_scoring_config(path)

    message = str(caught.value)
    assert str(path) in message
    for fragment in expected:
        assert fragment in message


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param('key_features = ["a"]\n', "model_version: Field required", id="no-version"),
        pytest.param(
            'model_version = "x"\nkey_features = ["a", "a"]\n',
            "key_features: listed more than once: a",
            id="duplicate-feature",
        ),
        pytest.param(
            'model_version = "x"\nkey_features = []\n', "key_features", id="no-key-features"
        ),
    ],
)
def test_invalid_global_settings_are_reported(tmp_path, header, expected):
    path = write(tmp_path, "", header=header)

    with pytest.raises(ConfigurationError, match=expected):
        load_scoring_config(path)


def test_missing_file_is_a_configuration_error(tmp_path):
    path = tmp_path / "absent.toml"

    with pytest.raises(ConfigurationError, match="file not found") as caught:
        load_scoring_config(path)

    assert str(path) in str(caught.value)


def test_malformed_toml_is_a_configuration_error(tmp_path):
    path = write(tmp_path, "[weights\nengagement = 0.3\n")

    with pytest.raises(ConfigurationError, match="not valid TOML") as caught:
        load_scoring_config(path)

    assert str(path) in str(caught.value)
