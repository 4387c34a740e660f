class DomainError(Exception):
    """A rule of the domain was broken; the message is German and shown to the user as it is."""


class NoHomeUnitError(DomainError):
    """The account has no org unit, so a new record would belong nowhere (or, before, to someone else's)."""

    MESSAGE = ("Ihrem Konto ist keine Dienststelle zugeordnet; Sie können keine Datensätze anlegen. "
               "Bitte wenden Sie sich an die Administration.")

    def __init__(self, message: str = MESSAGE):
        super().__init__(message)
