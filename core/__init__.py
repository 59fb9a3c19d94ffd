"""Plumbing that no domain owns, below every app: it imports none of them."""
