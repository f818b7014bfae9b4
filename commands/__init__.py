"""The commands of the preincub CLI, one module per concern; cli.py assembles them into the app."""
