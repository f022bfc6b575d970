"""What support staff and admins keep and read about conversations: internal notes, service figures."""
