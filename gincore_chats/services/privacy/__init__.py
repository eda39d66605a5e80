"""Privacy: what the library holds about a person (export, erase) and how long it keeps it."""
