"""The password policy: one rule for every way a password is set (UI, admin form, ``init``, ``users add``).

A password is accepted when it

1. has at least ``MIN_LENGTH`` (12) characters — BSI IT-Grundschutz ORP.4.A22 and NIST SP 800-63B §5.1.1.2
   favour length over composition rules, and
2. is not trivially guessable: zxcvbn (Dropbox's estimator, MIT) scores it at least ``MIN_SCORE`` (3 of 4,
   "safely unguessable: moderate protection from offline slow-hash scenario", about 10^8 guesses),
   counting the account's own words (user name, first and last name) as known to an attacker, and
3. has at most ``MAX_LENGTH`` characters (zxcvbn refuses longer input; no person types more).

No composition rules (digits, capitals): NIST 800-63B §5.1.1.2 advises against them. Messages are German
and shown to the user as they are.
"""
from __future__ import annotations

from collections.abc import Iterable


MIN_LENGTH = 12
MAX_LENGTH = 72
MIN_SCORE = 3

TOO_SHORT = f"Das Passwort ist zu kurz: mindestens {MIN_LENGTH} Zeichen."
TOO_LONG = f"Das Passwort ist zu lang: höchstens {MAX_LENGTH} Zeichen."
TOO_GUESSABLE = "Das Passwort ist zu leicht zu erraten."
GENERIC_HINT = ("Nehmen Sie mehrere ungewöhnliche Wörter, z. B. einen kurzen Satz, der nicht aus Namen, "
                "Daten oder Tastaturmustern besteht.")

# zxcvbn's English feedback (zxcvbn/feedback.py), in German. Unknown texts fall back to GENERIC_HINT.
GERMAN_FEEDBACK = {
    "Use a few words, avoid common phrases.": "Nehmen Sie mehrere Wörter, aber keine bekannten Redewendungen.",
    "No need for symbols, digits, or uppercase letters.": "Sonderzeichen, Ziffern oder Großbuchstaben sind nicht nötig.",
    "Add another word or two. Uncommon words are better.":
        "Fügen Sie ein oder zwei weitere Wörter hinzu; ungewöhnliche Wörter sind besser.",
    "Straight rows of keys are easy to guess.": "Tastenreihen (wie „qwertz“) sind leicht zu erraten.",
    "Short keyboard patterns are easy to guess.": "Kurze Tastaturmuster sind leicht zu erraten.",
    "Use a longer keyboard pattern with more turns.": "Vermeiden Sie Tastaturmuster.",
    'Repeats like "aaa" are easy to guess.': "Wiederholungen wie „aaa“ sind leicht zu erraten.",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".':
        "Wiederholungen wie „abcabcabc“ sind kaum schwerer zu erraten als „abc“.",
    "Avoid repeated words and characters.": "Vermeiden Sie wiederholte Wörter und Zeichen.",
    'Sequences like "abc" or "6543" are easy to guess.': "Folgen wie „abc“ oder „6543“ sind leicht zu erraten.",
    "Avoid sequences.": "Vermeiden Sie Zeichenfolgen.",
    "Recent years are easy to guess.": "Jahreszahlen der letzten Jahre sind leicht zu erraten.",
    "Avoid recent years.": "Vermeiden Sie Jahreszahlen der letzten Jahre.",
    "Avoid years that are associated with you.": "Vermeiden Sie Jahreszahlen, die mit Ihnen zu tun haben.",
    "Dates are often easy to guess.": "Daten sind oft leicht zu erraten.",
    "Avoid dates and years that are associated with you.":
        "Vermeiden Sie Daten und Jahreszahlen, die mit Ihnen zu tun haben.",
    "This is a top-10 common password.": "Es gehört zu den zehn häufigsten Passwörtern.",
    "This is a top-100 common password.": "Es gehört zu den hundert häufigsten Passwörtern.",
    "This is a very common password.": "Es ist ein sehr häufiges Passwort.",
    "This is similar to a commonly used password.": "Es ähnelt einem häufig benutzten Passwort.",
    "A word by itself is easy to guess.": "Ein einzelnes Wort ist leicht zu erraten.",
    "Names and surnames by themselves are easy to guess.": "Vor- und Nachnamen allein sind leicht zu erraten.",
    "Common names and surnames are easy to guess.": "Häufige Vor- und Nachnamen sind leicht zu erraten.",
    "Capitalization doesn't help very much.": "Großschreibung hilft kaum.",
    "All-uppercase is almost as easy to guess as all-lowercase.":
        "Nur Großbuchstaben sind fast so leicht zu erraten wie nur Kleinbuchstaben.",
    "Reversed words aren't much harder to guess.": "Rückwärts geschriebene Wörter sind kaum schwerer zu erraten.",
    "Predictable substitutions like '@' instead of 'a' don't help very much.":
        "Vorhersehbare Ersetzungen wie „@“ statt „a“ helfen kaum.",
}


def password_rejection(password: str, user_inputs: Iterable[str | None] = ()) -> str | None:
    """Why ``password`` is refused (one German paragraph), or None when the policy accepts it.

    ``user_inputs`` are the account's own words (user name, first and last name, e-mail): a password built
    from them counts as guessable.
    """
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    words = [str(word) for word in user_inputs if word]
    # The parts of an e-mail address and of a dotted/underscored user name are words of their own.
    words += [part for word in list(words) for part in word.replace("@", " ").replace(".", " ").replace("_", " ").split()]
    if len(_without_account_words(password, words)) < MIN_LENGTH:
        # zxcvbn rates "Meier-Sieglinde1" for the account Sieglinde Meier as strong: the names are rare
        # words to it. Without the account's words fewer than MIN_LENGTH characters are left.
        return f"{TOO_GUESSABLE} Es besteht vor allem aus Ihrem Namen oder Benutzernamen; {_lower_first(GENERIC_HINT)}"
    from zxcvbn import zxcvbn  # here, not at import: its word lists cost every process start 25 ms

    result = zxcvbn(password, user_inputs=words)
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result.get("feedback") or {}
    texts = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
    german = [GERMAN_FEEDBACK[text] for text in texts if text in GERMAN_FEEDBACK]
    return " ".join([TOO_GUESSABLE, *(german or [GENERIC_HINT])])


def _without_account_words(password: str, words: list[str]) -> str:
    rest = password.lower()
    for word in sorted(words, key=len, reverse=True):
        if len(word) >= 3:
            rest = rest.replace(word.lower(), "")
    return rest


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
