"""Judging pin sets: a served chain, survivability in time, offline checks, verify, guard."""
