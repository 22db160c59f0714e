"""Production settings are secure and fail fast; the database configuration follows the env."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "DB_"))
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "devskyy.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": "postgres://devskyy@db.invalid:5432/devskyy",
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
}


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOWED_HOSTS"])
def test_production_settings_refuse_to_start_without_required_configuration(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert f"{missing} must be set in production" in result.stderr


def test_passwords_are_hashed_with_argon2_first():
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_tests_run_on_postgresql_never_sqlite():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_database_url_and_pool_settings_are_honoured(monkeypatch):
    from devskyy.settings import base

    monkeypatch.setattr(base, "DATABASE_URL", "postgres://u:p@db.example.com:6543/shop")
    monkeypatch.setattr(base, "DB_POOL_SIZE", 8)
    monkeypatch.setattr(base, "DB_STATEMENT_TIMEOUT_MS", 5000)
    config = base.database_config()
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "db.example.com",
        6543,
        "shop",
        "u",
    )
    assert config["OPTIONS"]["pool"]["max_size"] == 8
    assert config["CONN_MAX_AGE"] == 0
    assert config["OPTIONS"]["options"] == "-c statement_timeout=5000"

    monkeypatch.setattr(base, "DB_POOL_SIZE", 0)
    monkeypatch.setattr(base, "DB_CONN_MAX_AGE", 120)
    config = base.database_config()
    assert "pool" not in config["OPTIONS"]
    assert config["CONN_MAX_AGE"] == 120


def test_the_server_is_database_url_s_or_else_the_embedded_one_over_a_unix_socket():
    import dj_database_url

    from devskyy import embedded_db

    db = settings.DATABASES["default"]
    if os.environ.get("DATABASE_URL"):
        configured = dj_database_url.parse(os.environ["DATABASE_URL"])
        assert (db["HOST"], db["NAME"]) == (configured["HOST"], configured["NAME"])
    else:
        assert db["HOST"].startswith("/")
        assert Path(db["HOST"]).is_dir()
        assert embedded_db.PGDATA.joinpath("PG_VERSION").read_text().startswith("18")


def test_production_collects_static_files_for_the_admin_and_the_api_docs(tmp_path):
    result = manage(
        "collectstatic", "--no-input", **PRODUCTION_ENV, DJANGO_STATIC_ROOT=str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.glob("admin/css/base.*.css"))
    assert list(tmp_path.glob("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.*.js"))
