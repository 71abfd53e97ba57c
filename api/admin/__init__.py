"""The admin panel: static ES modules and CSS served at /admin (see README.md)."""
