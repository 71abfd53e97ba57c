"""Mail: building messages and handing them to a transport (SMTP, or the dev outbox).

``messages`` builds RFC 5322 messages (Japanese first-class), ``transport`` delivers them
(``transport_from_settings`` picks SMTP or the outbox), ``outbox`` reads the dev outbox back for
the admin viewer. Nothing here knows about HTTP or the database.
"""
