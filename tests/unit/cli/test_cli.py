"""CLI behaviour that needs no broker: exit codes and messages for bad input."""

from __future__ import annotations

import pytest

from stream_app.cli import main
from stream_app.envelope import read_envelopes
from stream_app.errors import InputFileError


def test_replay_refuses_a_malformed_file_before_sending_anything(tmp_path, capsys):
    path = tmp_path / "events.jsonl"
    path.write_text('{"topic": "cs.product-usage.v1", "key": "a", "value": {}}\nnot json\n')
    assert main(["replay", str(path)]) == 2
    assert "line 2: not JSON" in capsys.readouterr().err


def test_replay_refuses_unknown_topics(tmp_path, capsys):
    path = tmp_path / "events.jsonl"
    path.write_text('{"topic": "cs.nope.v1", "key": null, "value": {}}\n')
    assert main(["replay", str(path)]) == 2
    assert "unknown topic(s) cs.nope.v1" in capsys.readouterr().err


def test_replay_of_a_missing_file_is_an_error(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "absent.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_invalid_configuration_fails_with_a_clear_message(monkeypatch, capsys):
    monkeypatch.setenv("HS_PARTITIONS", "zero")
    assert main(["schemas", "export", "--dir", "/nonexistent-never-written"]) == 2
    assert "invalid configuration" in capsys.readouterr().err


def test_invalid_configuration_names_the_variable_and_never_echoes_a_secret(monkeypatch, capsys):
    # pydantic's message for a model-level check quotes every input, secrets included
    monkeypatch.setenv("HS_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("HS_KAFKA_SASL_PASSWORD", "pw-that-must-not-print")
    assert main(["schemas", "export", "--dir", "/nonexistent-never-written"]) == 2
    err = capsys.readouterr().err
    assert "HS_KAFKA_SASL_USERNAME" in err and "pw-that-must-not-print" not in err

    monkeypatch.setenv("HS_PARTITIONS", "0")
    assert main(["schemas", "export", "--dir", "/nonexistent-never-written"]) == 2
    err = capsys.readouterr().err
    assert "HS_PARTITIONS: Input should be greater than or equal to 1" in err
    assert "pw-that-must-not-print" not in err


def test_bad_arguments_exit_non_zero(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["produce-demo", "--rate", "-5"])
    assert caught.value.code == 2


def test_envelope_values_keep_raw_strings_and_encode_objects(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text(
        '{"topic": "t", "key": "k", "value": {"a": 1}}\n'
        "\n"
        '{"topic": "t", "key": null, "value": "{raw"}\n'
    )
    first, second = read_envelopes(path)
    assert (first.key, first.value) == (b"k", b'{"a":1}')
    assert (second.key, second.value) == (None, b"{raw")


@pytest.mark.parametrize(
    "line", ['{"key": "k"}', '{"topic": 3}', '{"topic": "t", "key": 5}', "[1]"]
)
def test_envelope_shape_errors_name_the_line(tmp_path, line):
    path = tmp_path / "e.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(InputFileError, match="line 1"):
        list(read_envelopes(path))
