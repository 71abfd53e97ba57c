"""Security primitives shared by staff and (later) members: passwords, signing keys, throttles."""
