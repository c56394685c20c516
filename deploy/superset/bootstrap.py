"""Superset's roles, permissions and Pulse's two accounts, in one process (run by superset-init.sh).

Does what `superset init` and `superset fab create-user`/`reset-password` do, but loads the
Superset application once instead of four times (each CLI call spends ~12 s starting the app).
Runs in the Superset runtime, so it imports nothing from `pulse`. Idempotent.

Accounts come from the environment: SUPERSET_ADMIN_USER/_PASSWORD and
SUPERSET_REPORTS_USER/_PASSWORD (the fixed account that renders reports, see
ALERT_REPORTS_EXECUTORS in superset_config.py). Both get the Admin role.
"""

from __future__ import annotations

import os
import sys

from superset.app import create_app


def _ensure_user(security_manager, username: str, password: str, first: str, last: str) -> str:
    user = security_manager.find_user(username=username)
    if user is None:
        admin = security_manager.find_role("Admin")
        user = security_manager.add_user(username, first, last, f"{username}@pulse.invalid", admin, password)
        if not user:
            raise SystemExit(f"bootstrap: could not create the Superset user {username!r}")
        return "created"
    security_manager.reset_password(user.id, password)
    return "password reset"


def main() -> None:
    accounts = [
        (os.environ["SUPERSET_ADMIN_USER"], os.environ["SUPERSET_ADMIN_PASSWORD"], "Pulse", "Admin"),
        (os.environ["SUPERSET_REPORTS_USER"], os.environ["SUPERSET_REPORTS_PASSWORD"], "Pulse", "Reports"),
    ]
    app = create_app()
    with app.app_context():
        from superset import appbuilder, db, security_manager

        appbuilder.add_permissions(update_perms=True)
        security_manager.sync_role_definitions()
        db.session.commit()
        for username, password, first, last in accounts:
            print(f"superset user {username}: {_ensure_user(security_manager, username, password, first, last)}")
        db.session.commit()


if __name__ == "__main__":
    sys.exit(main())
