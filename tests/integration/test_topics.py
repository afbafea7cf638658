"""``topics create`` against the real broker: idempotent, and loud about partition mismatches."""

from __future__ import annotations

import pytest

from stream_app.cli.topics import create_topics
from stream_app.errors import ConfigurationError

pytestmark = pytest.mark.integration


def test_creating_topics_twice_reports_them_as_existing(deployment):
    settings = deployment.settings()

    first = create_topics(settings)
    second = create_topics(settings)

    assert all(line.startswith("created") for line in first), first
    assert all(line.startswith("exists") for line in second), second
    assert len(first) == len(second) == 8  # 7 contract topics and the re-key topic


def test_a_partition_count_mismatch_is_refused_with_a_clear_message(deployment):
    settings = deployment.settings()
    create_topics(settings)

    with pytest.raises(ConfigurationError, match="partitions but the engine is configured for"):
        create_topics(settings, partitions=settings.partitions + 1)
