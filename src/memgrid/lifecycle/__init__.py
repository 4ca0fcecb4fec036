"""Memory that evolves without losing evidence: supersession, retention (forgetting), archiving."""
