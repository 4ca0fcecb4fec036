"""Who may see and change which memories: principals, API keys, grants, and the audit log."""
