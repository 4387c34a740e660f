"""The password policy (#11): at least 12 characters, not trivially guessable, German reasons."""
from __future__ import annotations

import pytest

from app.domain.passwords import MIN_LENGTH, TOO_GUESSABLE, TOO_LONG, TOO_SHORT, password_rejection


@pytest.mark.parametrize(("password", "account", "expected"), [
    ("1", [], TOO_SHORT),                                   # the finding: "1" was accepted
    ("a", [], TOO_SHORT),                                   # the finding: "a" was accepted
    ("test-pw", [], TOO_SHORT),                             # the test suite's password: short
    ("admin", ["admin"], TOO_SHORT),                        # README's old admin password
    ("x" * (MIN_LENGTH - 1), [], TOO_SHORT),                # one short of the minimum
    ("passwort1234", [], TOO_GUESSABLE),                    # long enough, but a common password
    ("qwertzuiop123", [], TOO_GUESSABLE),                   # a keyboard row
    ("aaaaaaaaaaaaaa", [], TOO_GUESSABLE),                  # repeats
    ("sachbearbeitung1", ["sachbearbeitung_nord"], TOO_GUESSABLE),  # the user name plus a digit
    ("Meier-Sieglinde1", ["smeier", "Sieglinde", "Meier"], TOO_GUESSABLE),  # zxcvbn alone would accept it
    ("ä" * 73, [], TOO_LONG),                               # zxcvbn refuses more than 72 characters
], ids=["one", "a", "test-pw", "admin", "eleven", "common", "keyboard", "repeats", "username", "names", "long"])
def test_refused(password, account, expected):
    reason = password_rejection(password, account)
    assert reason is not None and reason.startswith(expected), reason


@pytest.mark.parametrize(("password", "account"), [
    ("Kaffeetasse Nordbahnhof blau", []),                   # a short sentence of uncommon words
    ("Meier liebt Quittenmus", ["Meier"]),                  # contains the name, but much more besides
    ("Fachstelle-Start-2026", ["admin"]),                   # the README's admin password
], ids=["sentence", "name-and-more", "readme"])
def test_accepted(password, account):
    assert password_rejection(password, account) is None


def test_a_guessable_password_gets_a_german_hint():
    reason = password_rejection("passwort1234")
    assert reason == ("Das Passwort ist zu leicht zu erraten. Es ähnelt einem häufig benutzten Passwort. "
                      "Fügen Sie ein oder zwei weitere Wörter hinzu; ungewöhnliche Wörter sind besser.")
