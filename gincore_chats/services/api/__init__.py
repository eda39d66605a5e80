"""The REST API's tokens and its keyset-paged lists."""
