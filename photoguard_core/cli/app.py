"""The ``photoguard`` command group.

Exit codes, for scripts: 0 done; 1 at least one file or record failed (the others
are still done, the failures listed on stderr); 2 usage error or nothing to do.
Results go to stdout, progress and summaries to stderr, so ``--json`` output can
be piped.
"""

from __future__ import annotations

import click

from photoguard_core import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="photoguard")
def main() -> None:
    """Keep school photos safe: find faces, redact them by consent, strip metadata."""
