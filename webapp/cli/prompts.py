"""Reading secrets and passwords from a hidden prompt or stdin, never from an argument."""

from __future__ import annotations

import sys

import click


def read_secret(from_stdin: bool, prompt: str) -> str:
    """A secret from stdin (one line, newline removed) or a hidden prompt asked twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))

