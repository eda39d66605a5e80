"""Auto-assignment: new conversations join an available manager of their source, fairly."""
