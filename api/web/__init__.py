"""HTTP plumbing shared by every domain's controllers: problem details, staff authentication,
security headers, pagination. Domain logic never lives here."""
