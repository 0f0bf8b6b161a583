"""Writing pins.yaml and keys: init, suggest, keygen, expiry edits, diff between revisions."""
