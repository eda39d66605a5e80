"""Attachments: what a file really is, checks, quota, thumbnails and who may read it."""
