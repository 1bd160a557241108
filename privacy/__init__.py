"""What each caller may see of the registry: roles, masks, policies and small-cell suppression."""
