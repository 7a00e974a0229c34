"""The scenario language: schema, loader with overrides, reference documentation."""
