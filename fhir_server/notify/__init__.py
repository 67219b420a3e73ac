"""Outgoing messages (SMS): gateways behind one interface and a persistent outbox with retry."""
