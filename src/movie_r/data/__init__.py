"""The user's catalogue and interactions: CSV reading, column mapping, validation, title keys.

Imports `storage` (fingerprints) and the foundation only."""
