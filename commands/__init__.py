"""The commands of the preincub CLI, one module per concern; cli.COMMANDS says which command lives where,
and cli.py's lazy group imports a module when one of its commands runs."""
