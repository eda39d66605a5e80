"""Managers as the library knows them: cached profiles of host users and their presence."""
