"""Customers: the contact behind each conversation and the fields managers and the API edit."""
