"""People: who a platform says someone is, who a command or a plan names, who has left."""
