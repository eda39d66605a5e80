"""Closing a conversation: the customer's rating, the transcript by email, auto-close."""
