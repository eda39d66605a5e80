"""A fake Graph API per test; ``config`` points every Meta base URL at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gincore_chats.channels.base import ChannelConfig

from .fake_graph import FakeGraph


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    """graph.facebook.com (WhatsApp, Messenger, Instagram with Facebook Login)."""
    fake = FakeGraph().start()
    yield fake
    fake.stop()


@pytest.fixture
def ig_graph() -> Iterator[FakeGraph]:
    """graph.instagram.com (Instagram Login), a separate host to prove which one is called."""
    fake = FakeGraph().start()
    yield fake
    fake.stop()


@pytest.fixture
def config(graph: FakeGraph, ig_graph: FakeGraph) -> ChannelConfig:
    return ChannelConfig(
        graph_api_base=graph.base_url,
        graph_api_version="v21.0",
        instagram_graph_base=ig_graph.base_url,
        timeout=5.0,
    )
