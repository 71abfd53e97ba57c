"""Staff: the users of the admin panel, their roles, sessions and API tokens."""
