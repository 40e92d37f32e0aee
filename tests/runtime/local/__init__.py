"""LocalAgents on their own: mailboxes, eager RPCs, the task switch, idle counting."""
