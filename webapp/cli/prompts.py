"""Reading secrets and passwords from a hidden prompt or stdin, never from an argument."""

from __future__ import annotations

import sys

import click

from webapp.tokens import TRIMMED_NOTE, trim_secret


def read_secret(from_stdin: bool, prompt: str, *, trim: bool = False) -> str:
    """A secret from stdin (one line, newline removed) or a hidden prompt asked twice.

    With `trim` (a VideoSDK secret, SPEC 3.1) a line from stdin loses surrounding whitespace,
    and the command says so; a password keeps its spaces.
    """
    if from_stdin and not trim:
        return sys.stdin.readline().rstrip("\r\n")
    if from_stdin:
        # The line's own end is no part of the secret; any other whitespace is said.
        secret, trimmed = trim_secret(sys.stdin.readline().removesuffix("\n").removesuffix("\r"))
        if trimmed and secret:
            click.echo(f"note: --secret-stdin: {TRIMMED_NOTE}.", err=True)
        return secret
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))

