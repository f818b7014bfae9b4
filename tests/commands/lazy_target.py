"""A command module for tests/commands/test_lazy.py: imported only when its command runs."""

import click


@click.command()
def hello():
    """Say hello."""
    click.echo("hello")
