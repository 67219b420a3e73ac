"""Authentication and authorization: accounts, OTP, passwords, tokens, SMART scopes, one guard."""
