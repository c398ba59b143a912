"""The ``alerts`` command: evaluate the rules, send, and print what happened."""

from __future__ import annotations

import argparse
import os
import sys

from reliability.alert_delivery import channels_from_env
from reliability.alerts import run_alerts
from reliability.config import load_portfolio
from reliability.store import Store

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def main_alerts(args: argparse.Namespace) -> int:
    """Run `alerts`: 0 delivered (or nothing due), 1 a delivery failed, 2 no channel."""
    is_dry_run = bool(getattr(args, "dry_run", False))
    if not is_dry_run and not channels_from_env(os.environ):
        print(
            "error: no alert channel: set SLACK_WEBHOOK_URL or TEAMS_WEBHOOK_URL "
            "(or use --dry-run)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    result = run_alerts(
        Store.from_env(), load_portfolio(), is_dry_run=is_dry_run, report=print
    )
    if not is_dry_run and result.sent == 0 and result.failed == 0:
        print("Nothing to send.")
    return EXIT_FAILED if result.failed else EXIT_OK
