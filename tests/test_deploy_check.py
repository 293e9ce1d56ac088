"""The production check (`dcc check --deploy`) on production settings: clean with HTTPS on; any
warning (no HTTPS, a weak key) fails it with a non-zero exit, as a deployment script needs."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

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


def deploy_check(
    tmp_path: Path, extra: list[str] | None = None, **overrides: str | None
) -> subprocess.CompletedProcess[str]:
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
        [sys.executable, "manage.py", "check", "--deploy", *(extra or [])],
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


@pytest.mark.parametrize(
    "weak_key",
    [
        "short-key",
        "django-insecure-" + "x" * 50,
        "ab" * 30,
    ],
)
def test_a_weak_secret_key_fails_the_production_check(tmp_path, weak_key):
    result = deploy_check(tmp_path, SECRET_KEY=weak_key)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "security.W009" in output, output


def test_the_ordinary_check_still_passes_on_warnings_only(tmp_path):
    """Without --deploy the check is the developer's: warnings do not fail it."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "short-key", "DCC_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_explicit_fail_level_still_wins(tmp_path):
    result = deploy_check(tmp_path, SECRET_KEY="short-key", extra=["--fail-level", "ERROR"])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "security.W009" in output, output


def test_redis_url_makes_every_process_count_in_one_redis(tmp_path):
    env = {**os.environ, "REDIS_URL": "redis://cache.example:6379/2", "DCC_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "from dcc import settings; print(settings.CACHES['default'])"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "django.core.cache.backends.redis.RedisCache" in result.stdout
    assert "redis://cache.example:6379/2" in result.stdout
