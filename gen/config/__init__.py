"""pins.yaml: its schema, the loader that builds the model, and the writer of pins.yaml text."""
