"""The login page, with the note that says why the last login was refused.

Rendered here rather than by a script so the note shows without JavaScript. The login form
redirects to /login?failed=1 after a wrong name or password, and adds locked=1 when the name
or the address is locked out (console.login): then the right password is refused too, and
saying "wrong password" would send the operator guessing again and again.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
NOTE_SLOT = "<!-- login note -->"


def login_note(failed: bool, locked: bool, lockout_seconds: float) -> str:
    if locked:
        minutes = max(1, round(lockout_seconds / 60))
        return (
            f"Too many failed logins: this name or this address is locked for up to {minutes} "
            "minutes. Try again later, or ask a supervisor."
        )
    return "Wrong name or password." if failed else ""


def login_html(failed: bool, locked: bool, lockout_seconds: float) -> str:
    """login.html with its note in place (none after a plain visit)."""
    page = (STATIC_DIR / "login.html").read_text()
    note = login_note(failed, locked, lockout_seconds)
    kind = "locked" if locked else "failed"
    shown = f'<p id="login-{kind}" class="login-error" role="alert">{escape(note)}</p>'
    return page.replace(NOTE_SLOT, shown if note else "")
