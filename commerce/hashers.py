"""Password hashes written by the seed's own stack, so that its users can log in here.

Seed 001's ``users.password_hash`` holds a "Bcrypt/Argon2 hash" as passlib writes it: a bare
modular-crypt string, ``$2b$12$<salt><checksum>`` or ``$argon2id$v=19$m=...,t=...,p=...$<salt>$
<hash>``. Django finds a hash's hasher by the name before its first ``$``, which a bare hash
lacks, so ``as_django_encoded`` puts in front of it the name of the hasher below that reads it
(``User.check_password`` does so before Django's ``check_password``).

Neither hasher writes hashes: they come after the preferred (Argon2) hasher in
``PASSWORD_HASHERS`` and always ask for an update, so the first successful login rewrites the
password in Django's own format (``argon2$argon2id$...``). A wrong password changes nothing.
"""

from __future__ import annotations

from typing import ClassVar

import argon2
import bcrypt
from django.contrib.auth.hashers import Argon2PasswordHasher, BCryptPasswordHasher

# bcrypt reads at most 72 bytes of a password; passlib cut longer ones there when hashing
# (bcrypt >= 5 refuses them instead), so they verify cut the same way.
BCRYPT_MAX_PASSWORD_BYTES = 72


class SeedBcryptPasswordHasher(BCryptPasswordHasher):
    """Verifies ``$2a$``/``$2b$``/``$2y$`` bcrypt hashes (passlib's ``bcrypt``)."""

    algorithm = "seed_bcrypt"
    bare_prefixes: ClassVar[tuple[str, ...]] = ("$2a$", "$2b$", "$2y$")

    def verify(self, password: str, encoded: str) -> bool:
        algorithm, data = encoded.split("$", 1)
        assert algorithm == self.algorithm
        try:
            return bool(
                bcrypt.checkpw(password.encode()[:BCRYPT_MAX_PASSWORD_BYTES], data.encode("ascii"))
            )
        except ValueError:  # not a well-formed bcrypt hash: it verifies nothing
            return False

    def must_update(self, encoded: str) -> bool:
        return True


class SeedArgon2PasswordHasher(Argon2PasswordHasher):
    """Verifies bare Argon2 hashes in the PHC string format (passlib's ``argon2``)."""

    algorithm = "seed_argon2"
    bare_prefixes: ClassVar[tuple[str, ...]] = ("$argon2id$", "$argon2i$", "$argon2d$")

    def verify(self, password: str, encoded: str) -> bool:
        try:
            return bool(super().verify(password, encoded))
        except argon2.exceptions.InvalidHashError:  # not a well-formed hash: it verifies nothing
            return False

    def must_update(self, encoded: str) -> bool:
        return True


def as_django_encoded(encoded: str) -> str:
    """``encoded`` named for its hasher if the seed's stack wrote it bare; else unchanged."""
    if encoded.startswith(SeedBcryptPasswordHasher.bare_prefixes):
        # Django's bcrypt format: "<name>$" + the whole bcrypt string.
        return f"{SeedBcryptPasswordHasher.algorithm}${encoded}"
    if encoded.startswith(SeedArgon2PasswordHasher.bare_prefixes):
        # Django's Argon2 format: "<name>" + the PHC string, whose leading "$" separates them.
        return f"{SeedArgon2PasswordHasher.algorithm}{encoded}"
    return encoded
