"""`check --deploy` on production settings: clean with HTTPS on, and it does warn without it."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_ENV = (
    "DATABASE_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "HTTPS",
    "BEHIND_PROXY",
    "DCC_VAR_DIR",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set for the browser tests; never in production
)


def deploy_check(tmp_path: Path, **overrides: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    env |= {
        "DJANGO_SETTINGS_MODULE": "dcc.settings",
        "DEBUG": "false",
        "HTTPS": "true",
        "SECRET_KEY": secrets.token_urlsafe(45),  # 60 characters
        "ALLOWED_HOSTS": "dcc.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dcc.sqlite3'}",
        "DCC_VAR_DIR": str(tmp_path),
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    result = deploy_check(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output, output
    assert "no issues" in output, output


def test_check_deploy_warns_without_https(tmp_path):
    result = deploy_check(tmp_path, HTTPS=None)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "security.W004" in output, output  # no HSTS
    assert "security.W008" in output, output  # no redirect to HTTPS
    assert "security.W012" in output, output  # session cookie not secure
