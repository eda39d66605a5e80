"""Outgoing webhooks: endpoints, the events they receive, and signed deliveries with retries."""
