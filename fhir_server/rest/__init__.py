"""The HTTP layer: parses requests and formats responses; nothing imports it."""
