"""Reports: figures from SQL aggregates over conversations, messages, participants and ratings."""
