"""Screening applicants against the parties of published licence denials."""
