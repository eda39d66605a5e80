"""Canned responses: saved replies (responses) and the variables filled into them (variables)."""
