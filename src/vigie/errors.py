"""The root of Vigie's own errors: each says what went wrong in one line, and carries the exit status the
`vigie` command ends with. Domain code raises them; the command prints them once (`vigie.cli.main`)."""

from __future__ import annotations


class VigieError(Exception):
    exit_code = 1  # 2: bad input the user can correct; 3: a check found a problem

    def __init__(self, message: str = "", exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
