"""Realtime delivery: a Redis pub/sub hub per process and WebSocket session helpers."""
