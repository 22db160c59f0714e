"""tests.processes: a child process of the test run works on the test database."""

import subprocess

import pytest

from commerce.models import User
from tests.processes import PYTHON, ROOT, child_env

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_child_process_reads_what_the_test_committed():
    User.objects.create_user(
        username="visible-to-children", email="v@example.com", password="x-very-long-pass-1"
    )

    result = subprocess.run(  # noqa: S603 (our interpreter, fixed arguments)
        [
            PYTHON,
            "manage.py",
            "shell",
            "-c",
            "from commerce.models import User\n"
            "print(User.objects.filter(username='visible-to-children').count())",
        ],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "1"
